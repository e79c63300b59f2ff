import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyNotes, parseAnthropicUsagePage, parseJson } from '../../src/billing/index.js';
import type { BilledLine } from '../../src/billing/index.js';
import { throwsBilling } from './api-report-assertions.js';

/** A page of GET /v1/organizations/usage_report/messages?group_by[]=api_key_id&group_by[]=workspace_id&… */
const USAGE_PAGE = `{
  "data": [
    {
      "starting_at": "2025-08-01T00:00:00Z",
      "ending_at": "2025-08-02T00:00:00Z",
      "results": [
        {
          "uncached_input_tokens": 1500,
          "cache_creation": {
            "ephemeral_1h_input_tokens": 1000,
            "ephemeral_5m_input_tokens": 2000
          },
          "cache_read_input_tokens": 30000,
          "output_tokens": 800,
          "server_tool_use": { "web_search_requests": 3 },
          "api_key_id": "apikey_01Rj2N8SVvo6BePZj99NhmiT",
          "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
          "model": "claude-sonnet-4-20250514",
          "service_tier": "standard",
          "context_window": "0-200k"
        },
        {
          "uncached_input_tokens": 250000,
          "cache_creation": {
            "ephemeral_1h_input_tokens": 0,
            "ephemeral_5m_input_tokens": 0
          },
          "cache_read_input_tokens": 0,
          "output_tokens": 4000,
          "server_tool_use": null,
          "api_key_id": "apikey_01Rj2N8SVvo6BePZj99NhmiT",
          "workspace_id": null,
          "model": "claude-opus-4-1-20250805",
          "service_tier": "batch",
          "context_window": "200k-1M"
        },
        {
          "uncached_input_tokens": 0,
          "cache_creation": {
            "ephemeral_1h_input_tokens": 0,
            "ephemeral_5m_input_tokens": 0
          },
          "cache_read_input_tokens": 0,
          "output_tokens": 0,
          "server_tool_use": { "web_search_requests": 0 },
          "api_key_id": null,
          "workspace_id": null,
          "model": null,
          "service_tier": null,
          "context_window": null
        }
      ]
    },
    {
      "starting_at": "2025-08-02T02:00:00+02:00",
      "ending_at": "2025-08-03T00:00:00Z",
      "results": [
        {
          "uncached_input_tokens": 98765432109876543210,
          "cache_creation": {
            "ephemeral_1h_input_tokens": 0,
            "ephemeral_5m_input_tokens": 64
          },
          "cache_read_input_tokens": 0,
          "output_tokens": 12,
          "server_tool_use": { "web_search_requests": 0 },
          "api_key_id": null,
          "workspace_id": null,
          "model": null,
          "service_tier": null,
          "context_window": null
        }
      ]
    }
  ],
  "has_more": true,
  "next_page": "page_MjAyNS0wOC0wMlQwMDowMDowMFo="
}`;

const USAGE = {
  source: 'anthropic-usage',
  provider: 'anthropic',
  billedCost: undefined,
  listCost: undefined,
  currency: 'USD',
  chargeCategory: 'Usage',
  service: 'messages',
  resourceId: '',
} as const;

describe('parseAnthropicUsagePage', () => {
  it('reads every token kind, both cache lifetimes and web searches', () => {
    const notes = emptyNotes();
    const page = parseAnthropicUsagePage(parseJson(USAGE_PAGE), { account: 'acme' }, notes);
    const aug1 = { ...USAGE, account: 'acme', periodStart: 1754006400, periodEnd: 1754092800 };
    const sonnet = {
      ...aug1,
      project: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ',
      apiKey: 'apikey_01Rj2N8SVvo6BePZj99NhmiT',
      model: 'claude-sonnet-4-20250514',
      serviceTier: 'standard',
      description: '',
    };
    // The default workspace is reported as null: project ''.
    const opus = { ...sonnet, project: '', model: 'claude-opus-4-1-20250805', serviceTier: 'batch' };
    // 2025-08-02T02:00:00+02:00 is 2025-08-02T00:00:00Z.
    const ungrouped = {
      ...USAGE,
      account: 'acme',
      periodStart: 1754092800,
      periodEnd: 1754179200,
      project: '',
      apiKey: '',
      model: '',
      serviceTier: '',
      description: '',
    };
    const expected: BilledLine[] = [
      { ...sonnet, kind: 'input', quantity: '1500', unit: 'tokens' },
      { ...sonnet, kind: 'cache_read', quantity: '30000', unit: 'tokens' },
      { ...sonnet, kind: 'cache_write', quantity: '2000', unit: 'tokens', description: 'ephemeral_5m' },
      { ...sonnet, kind: 'cache_write', quantity: '1000', unit: 'tokens', description: 'ephemeral_1h' },
      { ...sonnet, kind: 'output', quantity: '800', unit: 'tokens' },
      { ...sonnet, kind: 'other', quantity: '3', unit: 'web_search_requests' },
      { ...opus, kind: 'input', quantity: '250000', unit: 'tokens' },
      { ...opus, kind: 'output', quantity: '4000', unit: 'tokens' },
      { ...ungrouped, kind: 'input', quantity: '98765432109876543210', unit: 'tokens' },
      { ...ungrouped, kind: 'cache_write', quantity: '64', unit: 'tokens', description: 'ephemeral_5m' },
      { ...ungrouped, kind: 'output', quantity: '12', unit: 'tokens' },
    ];
    assert.deepEqual(page, {
      lines: expected,
      // "2025-08-02T02:00:00+02:00" is midnight UTC.
      periods: [
        { start: Date.UTC(2025, 7, 1) / 1000, end: Date.UTC(2025, 7, 2) / 1000 },
        { start: Date.UTC(2025, 7, 2) / 1000, end: Date.UTC(2025, 7, 3) / 1000 },
      ],
      hasMore: true,
      nextPage: 'page_MjAyNS0wOC0wMlQwMDowMDowMFo=',
    });
    assert.deepEqual(notes, { rounded: 0, empty: 1 });
  });

  it('reads a last page, and a server_tool_use without web searches', () => {
    const text = `{"data": [{"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-01T01:00:00Z", "results": [
      {"uncached_input_tokens": 7, "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
       "cache_read_input_tokens": 0, "output_tokens": 0, "server_tool_use": {}}]}],
      "has_more": false, "next_page": null}`;
    assert.deepEqual(parseAnthropicUsagePage(parseJson(text), {}, emptyNotes()), {
      lines: [
        {
          ...USAGE,
          account: '',
          periodStart: 1754006400,
          periodEnd: 1754010000,
          project: '',
          apiKey: '',
          model: '',
          serviceTier: '',
          description: '',
          kind: 'input',
          quantity: '7',
          unit: 'tokens',
        },
      ],
      periods: [{ start: Date.UTC(2025, 7, 1) / 1000, end: Date.UTC(2025, 7, 1, 1) / 1000 }],
      hasMore: false,
      nextPage: undefined,
    });
  });
});

const OK_RESULT =
  '"uncached_input_tokens": 1, "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}, ' +
  '"cache_read_input_tokens": 0, "output_tokens": 0';

function page(
  result: string,
  bucket = '"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z"',
): string {
  return `{"has_more": false, "next_page": null, "data": [\n  {${bucket}, "results": [\n    {${result}}\n  ]}\n]}`;
}

describe('parseAnthropicUsagePage errors', () => {
  const parse = (text: string) => () =>
    parseAnthropicUsagePage(parseJson(text), { location: { file: 'usage.json' } }, emptyNotes());
  const at = 'data[0].results[0]';

  it('names missing counts, nested ones included', () => {
    throwsBilling(parse(page(OK_RESULT.replace('"output_tokens": 0', '"output": 0'))), 'MISSING_FIELD', {
      file: 'usage.json',
      line: 3,
      field: `${at}.output_tokens`,
    });
    throwsBilling(parse(page(OK_RESULT.replace('"ephemeral_5m_input_tokens": 0', '"x": 0'))), 'MISSING_FIELD', {
      field: `${at}.cache_creation.ephemeral_5m_input_tokens`,
    });
    throwsBilling(
      parse(page('"uncached_input_tokens": 1, "cache_read_input_tokens": 0, "output_tokens": 0')),
      'MISSING_FIELD',
      {
        field: `${at}.cache_creation`,
      },
    );
  });

  it('refuses wrong types, negative and fractional counts', () => {
    const bad: readonly [string, string, string][] = [
      [
        OK_RESULT.replace('"uncached_input_tokens": 1', '"uncached_input_tokens": -1'),
        'uncached_input_tokens',
        'non-negative',
      ],
      [OK_RESULT.replace('"output_tokens": 0', '"output_tokens": 0.5'), 'output_tokens', 'whole number'],
      [
        OK_RESULT.replace('"cache_read_input_tokens": 0', '"cache_read_input_tokens": "0"'),
        'cache_read_input_tokens',
        'got a string',
      ],
      [
        OK_RESULT.replace('"ephemeral_1h_input_tokens": 0', '"ephemeral_1h_input_tokens": 2.5e-1'),
        'cache_creation.ephemeral_1h_input_tokens',
        'whole number',
      ],
      [
        OK_RESULT.replace(/"cache_creation": \{[^}]*\}/, '"cache_creation": null'),
        'cache_creation',
        'expected an object, got null',
      ],
      [
        `${OK_RESULT}, "server_tool_use": {"web_search_requests": -3}`,
        'server_tool_use.web_search_requests',
        'non-negative',
      ],
      [`${OK_RESULT}, "server_tool_use": 3`, 'server_tool_use', 'expected an object'],
      [`${OK_RESULT}, "workspace_id": 5`, 'workspace_id', 'expected a string'],
      [`${OK_RESULT}, "api_key_id": false`, 'api_key_id', 'expected a string'],
      [`${OK_RESULT}, "model": {}`, 'model', 'expected a string'],
      [`${OK_RESULT}, "service_tier": []`, 'service_tier', 'expected a string'],
    ];
    for (const [result, field, says] of bad) {
      throwsBilling(parse(page(result)), 'INVALID_VALUE', {
        file: 'usage.json',
        line: 3,
        field: `${at}.${field}`,
        says,
      });
    }
  });

  it('refuses bad times', () => {
    throwsBilling(
      parse(page(OK_RESULT, '"starting_at": "2025-02-30T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z"')),
      'INVALID_VALUE',
      { line: 2, field: 'data[0].starting_at', says: 'not a time' },
    );
    throwsBilling(
      parse(page(OK_RESULT, '"starting_at": "2025-08-01T00:00:00Z", "ending_at": "yesterday"')),
      'INVALID_VALUE',
      { field: 'data[0].ending_at', says: 'not a time' },
    );
    throwsBilling(
      parse(page(OK_RESULT, '"starting_at": 1754006400, "ending_at": "2025-08-02T00:00:00Z"')),
      'INVALID_VALUE',
      {
        field: 'data[0].starting_at',
        says: 'expected a string',
      },
    );
    throwsBilling(parse(page(OK_RESULT, '"ending_at": "2025-08-02T00:00:00Z"')), 'MISSING_FIELD', {
      field: 'data[0].starting_at',
    });
    throwsBilling(
      parse(page(OK_RESULT, '"starting_at": "2025-08-02T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z"')),
      'INVALID_VALUE',
      { field: 'data[0].ending_at', says: 'does not end after it starts' },
    );
  });

  it('refuses a broken envelope', () => {
    throwsBilling(parse('{"data": [], "has_more": 1}'), 'INVALID_VALUE', {
      field: 'has_more',
      says: 'expected a boolean',
    });
    throwsBilling(parse('{"results": [], "has_more": false}'), 'MISSING_FIELD', { field: 'data' });
    throwsBilling(parse('{"data": [{"starting_at": "2025-08-01T00:00:00Z"}], "has_more": false}'), 'MISSING_FIELD', {
      field: 'data[0].results',
    });
    throwsBilling(parse('"page"'), 'INVALID_VALUE', { says: 'expected an object, got a string' });
  });

  it('leaves the notes untouched when a later result is bad', () => {
    const notes = emptyNotes();
    const text = USAGE_PAGE.replace('"output_tokens": 12', '"output_tokens": -12');
    throwsBilling(() => parseAnthropicUsagePage(parseJson(text), {}, notes), 'INVALID_VALUE', {
      field: 'data[1].results[0].output_tokens',
    });
    assert.deepEqual(notes, { rounded: 0, empty: 0 });
  });
});
