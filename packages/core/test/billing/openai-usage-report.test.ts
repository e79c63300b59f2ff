import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyNotes, MAX_RESULTS_PER_PAGE, parseJson, parseOpenAiUsagePage } from '../../src/billing/index.js';
import type { BilledLine } from '../../src/billing/index.js';
import { throwsBilling } from './api-report-assertions.js';

/** A completions page as GET /v1/organization/usage/completions returns it, grouped by everything. */
const COMPLETIONS_PAGE = `{
  "object": "page",
  "data": [
    {
      "object": "bucket",
      "start_time": 1730419200,
      "end_time": 1730505600,
      "results": [
        {
          "object": "organization.usage.completions.result",
          "input_tokens": 1000,
          "output_tokens": 500,
          "input_cached_tokens": 800,
          "input_audio_tokens": 0,
          "output_audio_tokens": 0,
          "num_model_requests": 5,
          "project_id": "proj_abc",
          "user_id": null,
          "api_key_id": "key_123",
          "model": "gpt-4o-2024-08-06",
          "batch": false,
          "service_tier": null
        },
        {
          "object": "organization.usage.completions.result",
          "input_tokens": 20000,
          "output_tokens": 3000,
          "num_model_requests": 40,
          "project_id": "proj_abc",
          "user_id": "user_9",
          "api_key_id": "key_456",
          "model": "gpt-4o-mini-2024-07-18",
          "batch": true,
          "service_tier": null
        },
        {
          "object": "organization.usage.completions.result",
          "input_tokens": 0,
          "output_tokens": 0,
          "input_cached_tokens": 0,
          "num_model_requests": 0,
          "project_id": null,
          "user_id": null,
          "api_key_id": null,
          "model": null,
          "batch": null,
          "service_tier": null
        }
      ]
    },
    {
      "object": "bucket",
      "start_time": 1730505600,
      "end_time": 1730592000,
      "results": [
        {
          "object": "organization.usage.completions.result",
          "input_tokens": 12345678901234567890,
          "output_tokens": 0,
          "input_cached_tokens": 0,
          "num_model_requests": 7,
          "project_id": null,
          "user_id": null,
          "api_key_id": null,
          "model": "o3-mini-2025-01-31",
          "batch": false,
          "service_tier": "flex"
        },
        {
          "object": "organization.usage.completions.result",
          "input_tokens": 300,
          "output_tokens": 50,
          "input_cached_tokens": 300,
          "input_audio_tokens": 100,
          "output_audio_tokens": 20,
          "num_model_requests": 1,
          "project_id": "proj_voice",
          "model": "gpt-4o-audio-preview-2024-12-17",
          "batch": true,
          "service_tier": "default"
        }
      ]
    }
  ],
  "has_more": true,
  "next_page": "page_AAAAAGdGxdEAAAAAZ0wZcA=="
}`;

const EMBEDDINGS_PAGE = `{
  "object": "page",
  "data": [
    {
      "object": "bucket",
      "start_time": 1730419200,
      "end_time": 1730505600,
      "results": [
        {
          "object": "organization.usage.embeddings.result",
          "input_tokens": 5000,
          "num_model_requests": 10,
          "project_id": "proj_search",
          "user_id": null,
          "api_key_id": "key_789",
          "model": "text-embedding-3-small"
        },
        {
          "object": "organization.usage.embeddings.result",
          "input_tokens": 0,
          "num_model_requests": 0,
          "project_id": null,
          "user_id": null,
          "api_key_id": null,
          "model": null
        }
      ]
    },
    {
      "object": "bucket",
      "start_time": 1730505600,
      "end_time": 1730592000,
      "results": []
    }
  ],
  "has_more": false,
  "next_page": null
}`;

/** The fields every OpenAI usage line shares; the rest is written out per line below. */
const USAGE = {
  source: 'openai-usage',
  provider: 'openai',
  billedCost: undefined,
  listCost: undefined,
  currency: 'USD',
  description: '',
  chargeCategory: 'Usage',
  resourceId: '',
} as const;

const NOV_1 = { periodStart: 1730419200, periodEnd: 1730505600 } as const;
const NOV_2 = { periodStart: 1730505600, periodEnd: 1730592000 } as const;

describe('parseOpenAiUsagePage', () => {
  it('splits completions usage into disjoint kinds, one line per non-zero kind', () => {
    const notes = emptyNotes();
    const page = parseOpenAiUsagePage(parseJson(COMPLETIONS_PAGE), { account: 'org-acme' }, notes);
    const gpt4o = { ...USAGE, ...NOV_1, account: 'org-acme', service: 'completions', project: 'proj_abc' };
    const gpt4o1 = { ...gpt4o, apiKey: 'key_123', model: 'gpt-4o-2024-08-06', serviceTier: '' };
    const mini = { ...gpt4o, apiKey: 'key_456', model: 'gpt-4o-mini-2024-07-18', serviceTier: 'batch' };
    const o3 = {
      ...USAGE,
      ...NOV_2,
      account: 'org-acme',
      service: 'completions',
      project: '',
      apiKey: '',
      model: 'o3-mini-2025-01-31',
      serviceTier: 'flex',
    };
    const audio = { ...o3, project: 'proj_voice', model: 'gpt-4o-audio-preview-2024-12-17', serviceTier: 'default' };
    const expected: BilledLine[] = [
      // 1000 input tokens of which 800 cached: 200 uncached input, 800 cache reads.
      { ...gpt4o1, kind: 'input', quantity: '200', unit: 'tokens' },
      { ...gpt4o1, kind: 'cache_read', quantity: '800', unit: 'tokens' },
      { ...gpt4o1, kind: 'output', quantity: '500', unit: 'tokens' },
      { ...gpt4o1, kind: 'requests', quantity: '5', unit: 'requests' },
      // No input_cached_tokens member: all 20000 are uncached; batch: true is the batch tier.
      { ...mini, kind: 'input', quantity: '20000', unit: 'tokens' },
      { ...mini, kind: 'output', quantity: '3000', unit: 'tokens' },
      { ...mini, kind: 'requests', quantity: '40', unit: 'requests' },
      // Beyond 2^53, exact; zero output and cache reads are not lines.
      { ...o3, kind: 'input', quantity: '12345678901234567890', unit: 'tokens' },
      { ...o3, kind: 'requests', quantity: '7', unit: 'requests' },
      // All 300 input tokens cached; the audio counts are inside input/output, not added.
      { ...audio, kind: 'cache_read', quantity: '300', unit: 'tokens' },
      { ...audio, kind: 'output', quantity: '50', unit: 'tokens' },
      { ...audio, kind: 'requests', quantity: '1', unit: 'requests' },
    ];
    assert.deepEqual(page, {
      lines: expected,
      // Every bucket's period, the empty ones too (the days the page covers).
      periods: [
        { start: 1730419200, end: 1730505600 },
        { start: 1730505600, end: 1730592000 },
      ],
      hasMore: true,
      nextPage: 'page_AAAAAGdGxdEAAAAAZ0wZcA==',
    });
    assert.deepEqual(notes, { rounded: 0, empty: 1 });
  });

  it('reads embeddings usage as input tokens and requests', () => {
    const notes = { rounded: 2, empty: 3 };
    const page = parseOpenAiUsagePage(parseJson(EMBEDDINGS_PAGE), {}, notes);
    const line = {
      ...USAGE,
      ...NOV_1,
      account: '',
      service: 'embeddings',
      project: 'proj_search',
      apiKey: 'key_789',
      model: 'text-embedding-3-small',
      serviceTier: '',
    };
    assert.deepEqual(page, {
      lines: [
        { ...line, kind: 'input', quantity: '5000', unit: 'tokens' },
        { ...line, kind: 'requests', quantity: '10', unit: 'requests' },
      ],
      periods: [
        { start: 1730419200, end: 1730505600 },
        { start: 1730505600, end: 1730592000 },
      ],
      hasMore: false,
      nextPage: undefined,
    });
    assert.deepEqual(notes, { rounded: 2, empty: 4 });
  });

  it('accepts integral counts in exponent or fraction form, and a page without pagination cursor', () => {
    const page = `{"object":"page","has_more":false,"data":[{"start_time":1730419200,"end_time":1730505600,"results":[
      {"object":"organization.usage.embeddings.result","input_tokens":1.5e3,"num_model_requests":2.0}]}]}`;
    const { lines, nextPage } = parseOpenAiUsagePage(parseJson(page), {}, emptyNotes());
    assert.deepEqual(
      lines.map((l) => [l.kind, l.quantity]),
      [
        ['input', '1500'],
        ['requests', '2'],
      ],
    );
    assert.equal(nextPage, undefined);
  });
});

/** A one-result completions page with `result` (JSON members) as the result, on line 3. */
function withResult(result: string, bucket = '"start_time": 1730419200, "end_time": 1730505600'): string {
  return `{"object": "page", "has_more": false, "next_page": null, "data": [\n  {"object": "bucket", ${bucket}, "results": [\n    {${result}}\n  ]}\n]}`;
}

const OK_RESULT =
  '"object": "organization.usage.completions.result", "input_tokens": 10, "output_tokens": 2, "num_model_requests": 1';

describe('parseOpenAiUsagePage errors', () => {
  const parse = (text: string) => () =>
    parseOpenAiUsagePage(parseJson(text), { location: { file: 'u.json' } }, emptyNotes());
  const at = 'data[0].results[0]';

  it('names a missing token count', () => {
    throwsBilling(
      parse(
        withResult('"object": "organization.usage.completions.result", "output_tokens": 2, "num_model_requests": 1'),
      ),
      'MISSING_FIELD',
      { file: 'u.json', line: 3, field: `${at}.input_tokens`, says: 'missing required field "input_tokens"' },
    );
    throwsBilling(
      parse(withResult('"object": "organization.usage.embeddings.result", "input_tokens": 5')),
      'MISSING_FIELD',
      { field: `${at}.num_model_requests` },
    );
  });

  it('refuses wrong types, negative and fractional counts', () => {
    const bad: readonly [string, string, string][] = [
      [`${OK_RESULT}, "input_cached_tokens": "8"`, 'input_cached_tokens', 'expected a non-negative integer'],
      [OK_RESULT.replace('"output_tokens": 2', '"output_tokens": -2'), 'output_tokens', 'non-negative integer'],
      [OK_RESULT.replace('"input_tokens": 10', '"input_tokens": 10.5'), 'input_tokens', 'whole number'],
      [OK_RESULT.replace('"num_model_requests": 1', '"num_model_requests": null'), 'num_model_requests', 'got null'],
      [`${OK_RESULT}, "project_id": 42`, 'project_id', 'expected a string'],
      [`${OK_RESULT}, "api_key_id": true`, 'api_key_id', 'expected a string'],
      [`${OK_RESULT}, "model": ["gpt-4o"]`, 'model', 'expected a string, got an array'],
      [`${OK_RESULT}, "batch": "yes"`, 'batch', 'expected a boolean'],
      [`${OK_RESULT}, "service_tier": 1`, 'service_tier', 'expected a string'],
    ];
    for (const [result, field, says] of bad) {
      throwsBilling(parse(withResult(result)), 'INVALID_VALUE', {
        file: 'u.json',
        line: 3,
        field: `${at}.${field}`,
        says,
      });
    }
  });

  it('refuses more cached tokens than input tokens', () => {
    throwsBilling(parse(withResult(`${OK_RESULT}, "input_cached_tokens": 11`)), 'INVALID_VALUE', {
      field: `${at}.input_cached_tokens`,
      says: 'input_cached_tokens (11) exceeds input_tokens (10)',
    });
  });

  it('refuses results other than completions and embeddings usage', () => {
    throwsBilling(
      parse(withResult(OK_RESULT.replace('organization.usage.completions.result', 'organization.usage.images.result'))),
      'INVALID_FORMAT',
      { field: `${at}.object`, says: 'only completions and embeddings usage is imported' },
    );
    throwsBilling(
      parse(withResult(OK_RESULT.replace('organization.usage.completions.result', 'organization.costs.result'))),
      'INVALID_FORMAT',
      { field: `${at}.object`, says: '"organization.costs.result"' },
    );
    throwsBilling(parse(withResult('"input_tokens": 1, "num_model_requests": 1')), 'MISSING_FIELD', {
      field: `${at}.object`,
    });
  });

  it('refuses a result that is not an object, and envelopes of another shape', () => {
    throwsBilling(parse(withResult(OK_RESULT).replace(`{${OK_RESULT}}`, '7')), 'INVALID_VALUE', {
      line: 3,
      field: at,
      says: 'expected an object, got a number (7)',
    });
    throwsBilling(parse('{"object": "list", "data": [], "has_more": false}'), 'INVALID_FORMAT', {
      field: 'object',
      says: 'expected object "page"',
    });
    throwsBilling(parse(withResult(OK_RESULT).replace('"object": "bucket"', '"object": "page"')), 'INVALID_FORMAT', {
      line: 2,
      field: 'data[0].object',
    });
    throwsBilling(parse('{"object": "page", "data": {}, "has_more": false}'), 'INVALID_VALUE', {
      field: 'data',
      says: 'expected an array',
    });
    throwsBilling(parse('{"object": "page", "has_more": false}'), 'MISSING_FIELD', { field: 'data' });
    throwsBilling(parse('{"object": "page", "data": []}'), 'MISSING_FIELD', { field: 'has_more' });
    throwsBilling(parse('{"object": "page", "data": [], "has_more": true, "next_page": null}'), 'INVALID_VALUE', {
      field: 'next_page',
      says: 'has_more is true but next_page is null',
    });
    throwsBilling(parse('{"object": "page", "data": [], "has_more": false, "next_page": 3}'), 'INVALID_VALUE', {
      field: 'next_page',
    });
    throwsBilling(parse('[]'), 'INVALID_VALUE', { file: 'u.json', line: 1, says: 'expected an object, got an array' });
  });

  it('refuses bad bucket times', () => {
    throwsBilling(parse(withResult(OK_RESULT, '"start_time": "2024-11-01", "end_time": 1730505600')), 'INVALID_VALUE', {
      line: 2,
      field: 'data[0].start_time',
    });
    throwsBilling(parse(withResult(OK_RESULT, '"start_time": 1730419200.5, "end_time": 1730505600')), 'INVALID_VALUE', {
      field: 'data[0].start_time',
      says: 'whole number',
    });
    throwsBilling(parse(withResult(OK_RESULT, '"start_time": 1730419200')), 'MISSING_FIELD', {
      field: 'data[0].end_time',
    });
    throwsBilling(parse(withResult(OK_RESULT, '"start_time": 1730505600, "end_time": 1730419200')), 'INVALID_VALUE', {
      field: 'data[0].end_time',
      says: 'does not end after it starts',
    });
  });

  it(`refuses a page of more than ${MAX_RESULTS_PER_PAGE} results (TOO_LARGE)`, () => {
    const results = (n: number) => Array.from({ length: n }, () => `{${OK_RESULT}}`).join(',');
    const bucket = (n: number) =>
      `{"object": "bucket", "start_time": 1730419200, "end_time": 1730505600, "results": [${results(n)}]}`;
    const page = (a: number, b: number) =>
      `{"object": "page", "has_more": false, "data": [${bucket(a)},\n${bucket(b)}]}`;
    const full = parseOpenAiUsagePage(parseJson(page(60_000, 40_000)), {}, emptyNotes());
    assert.equal(full.lines.length, 3 * MAX_RESULTS_PER_PAGE);
    throwsBilling(() => parseOpenAiUsagePage(parseJson(page(60_000, 40_001)), {}, emptyNotes()), 'TOO_LARGE', {
      line: 2,
      field: 'data[1].results',
      says: `more than ${MAX_RESULTS_PER_PAGE} results`,
    });
  });

  it('leaves the notes untouched and returns nothing when any result is bad', () => {
    const text = COMPLETIONS_PAGE.replace('"input_tokens": 300', '"input_tokens": 299');
    const notes = { rounded: 1, empty: 1 };
    throwsBilling(() => parseOpenAiUsagePage(parseJson(text), {}, notes), 'INVALID_VALUE', {
      field: 'data[1].results[1].input_cached_tokens',
      line: 73,
    });
    assert.deepEqual(notes, { rounded: 1, empty: 1 });
  });
});
