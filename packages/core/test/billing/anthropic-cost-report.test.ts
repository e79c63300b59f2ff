import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { centsToDecimal, emptyNotes, parseAnthropicCostPage, parseJson } from '../../src/billing/index.js';
import type { BilledLine } from '../../src/billing/index.js';
import { throwsBilling } from './api-report-assertions.js';

/** A page of GET /v1/organizations/cost_report?group_by[]=workspace_id&group_by[]=description. */
const COST_PAGE = `{
  "data": [
    {
      "starting_at": "2025-08-01T00:00:00Z",
      "ending_at": "2025-08-02T00:00:00Z",
      "results": [
        {
          "currency": "USD",
          "amount": "123.45",
          "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
          "description": "Claude Sonnet 4 Usage - Input Tokens",
          "cost_type": "tokens",
          "context_window": "0-200k",
          "model": "claude-sonnet-4-20250514",
          "service_tier": "standard",
          "token_type": "uncached_input_tokens",
          "inference_geo": null
        },
        {
          "currency": "USD",
          "amount": "2500",
          "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
          "description": "Claude Sonnet 4 Usage - Output Tokens",
          "cost_type": "tokens",
          "context_window": "0-200k",
          "model": "claude-sonnet-4-20250514",
          "service_tier": "standard",
          "token_type": "output_tokens",
          "inference_geo": null
        },
        {
          "currency": "USD",
          "amount": "0.375",
          "workspace_id": null,
          "description": "Claude Sonnet 4 Usage - Cache Read",
          "cost_type": "tokens",
          "context_window": "0-200k",
          "model": "claude-sonnet-4-20250514",
          "service_tier": "batch",
          "token_type": "cache_read_input_tokens",
          "inference_geo": null
        },
        {
          "currency": "USD",
          "amount": "18.75",
          "workspace_id": null,
          "description": "Claude Sonnet 4 Usage - Cache Write 5m",
          "cost_type": "tokens",
          "context_window": "0-200k",
          "model": "claude-sonnet-4-20250514",
          "service_tier": "standard",
          "token_type": "cache_creation.ephemeral_5m_input_tokens",
          "inference_geo": null
        },
        {
          "currency": "USD",
          "amount": "30",
          "workspace_id": null,
          "description": "Claude Sonnet 4 Usage - Cache Write 1h",
          "cost_type": "tokens",
          "context_window": "200k-1M",
          "model": "claude-sonnet-4-20250514",
          "service_tier": "standard",
          "token_type": "cache_creation.ephemeral_1h_input_tokens",
          "inference_geo": null
        }
      ]
    },
    {
      "starting_at": "2025-08-02T00:00:00Z",
      "ending_at": "2025-08-03T00:00:00Z",
      "results": [
        {
          "currency": "USD",
          "amount": "1000",
          "workspace_id": null,
          "description": "Web Search",
          "cost_type": "web_search",
          "context_window": null,
          "model": null,
          "service_tier": null,
          "token_type": null,
          "inference_geo": null
        },
        {
          "currency": "USD",
          "amount": "5.5",
          "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
          "description": "Code Execution",
          "cost_type": "code_execution",
          "context_window": null,
          "model": null,
          "service_tier": null,
          "token_type": null,
          "inference_geo": null
        },
        {
          "currency": "USD",
          "amount": "0.00",
          "workspace_id": null,
          "description": "Claude Haiku 3.5 Usage - Input Tokens",
          "cost_type": "tokens",
          "context_window": "0-200k",
          "model": "claude-3-5-haiku-20241022",
          "service_tier": "standard",
          "token_type": "uncached_input_tokens",
          "inference_geo": null
        },
        {
          "currency": "usd",
          "amount": "-150",
          "workspace_id": null,
          "description": null,
          "cost_type": null,
          "context_window": null,
          "model": null,
          "service_tier": null,
          "token_type": null,
          "inference_geo": null
        },
        {
          "currency": "USD",
          "amount": "0.00000000000123",
          "workspace_id": null,
          "description": "rounding residue",
          "cost_type": "tokens",
          "context_window": null,
          "model": "claude-sonnet-4-20250514",
          "service_tier": "standard",
          "token_type": "output_tokens",
          "inference_geo": "us"
        }
      ]
    }
  ],
  "has_more": false,
  "next_page": null
}`;

const COST = {
  source: 'anthropic-cost',
  provider: 'anthropic',
  account: '',
  apiKey: '',
  quantity: '0',
  unit: '',
  listCost: undefined,
  currency: 'USD',
  chargeCategory: 'Usage',
  service: '',
  resourceId: '',
} as const;

describe('parseAnthropicCostPage', () => {
  it('reads amounts in cents exactly as dollars, with the kind of each token type', () => {
    const notes = emptyNotes();
    const page = parseAnthropicCostPage(parseJson(COST_PAGE), {}, notes);
    const aug1 = { ...COST, periodStart: 1754006400, periodEnd: 1754092800 };
    const aug2 = { ...COST, periodStart: 1754092800, periodEnd: 1754179200 };
    const sonnet = { ...aug1, model: 'claude-sonnet-4-20250514', serviceTier: 'standard' };
    const expected: BilledLine[] = [
      // "123.45" cents is $1.2345.
      {
        ...sonnet,
        project: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ',
        kind: 'input',
        billedCost: '1.2345',
        description: 'Claude Sonnet 4 Usage - Input Tokens',
      },
      {
        ...sonnet,
        project: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ',
        kind: 'output',
        billedCost: '25',
        description: 'Claude Sonnet 4 Usage - Output Tokens',
      },
      {
        ...sonnet,
        project: '',
        serviceTier: 'batch',
        kind: 'cache_read',
        billedCost: '0.00375',
        description: 'Claude Sonnet 4 Usage - Cache Read',
      },
      {
        ...sonnet,
        project: '',
        kind: 'cache_write',
        billedCost: '0.1875',
        description: 'Claude Sonnet 4 Usage - Cache Write 5m',
      },
      {
        ...sonnet,
        project: '',
        kind: 'cache_write',
        billedCost: '0.3',
        description: 'Claude Sonnet 4 Usage - Cache Write 1h',
      },
      { ...aug2, project: '', model: '', serviceTier: '', kind: 'other', billedCost: '10', description: 'Web Search' },
      {
        ...aug2,
        project: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ',
        model: '',
        serviceTier: '',
        kind: 'other',
        billedCost: '0.055',
        description: 'Code Execution',
      },
      // "0.00" is not a line; "-150" (currency "usd") is -$1.50, kept.
      { ...aug2, project: '', model: '', serviceTier: '', kind: 'other', billedCost: '-1.5', description: '' },
      // "0.00000000000123" cents is $0.0000000000000123: rounds to 0 at 12 decimals, then not a line.
    ];
    assert.deepEqual(page, {
      lines: expected,
      periods: [
        { start: Date.UTC(2025, 7, 1) / 1000, end: Date.UTC(2025, 7, 2) / 1000 },
        { start: Date.UTC(2025, 7, 2) / 1000, end: Date.UTC(2025, 7, 3) / 1000 },
      ],
      hasMore: false,
      nextPage: undefined,
    });
    assert.deepEqual(notes, { rounded: 1, empty: 2 });
  });

  it('books the lines to the account given and follows pagination', () => {
    const text = `{"data": [{"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z",
      "results": [{"currency": "USD", "amount": "1"}]}], "has_more": true, "next_page": "page_2"}`;
    const page = parseAnthropicCostPage(parseJson(text), { account: 'acme' }, emptyNotes());
    assert.deepEqual(page, {
      lines: [
        {
          ...COST,
          account: 'acme',
          periodStart: 1754006400,
          periodEnd: 1754092800,
          project: '',
          model: '',
          serviceTier: '',
          kind: 'other',
          billedCost: '0.01',
          description: '',
        },
      ],
      periods: [{ start: 1754006400, end: 1754092800 }],
      hasMore: true,
      nextPage: 'page_2',
    });
  });
});

describe('centsToDecimal', () => {
  it('moves the decimal point two places, exactly', () => {
    const where = { field: 'amount' };
    const cases: readonly [string, string][] = [
      ['123.45', '1.2345'],
      ['1', '0.01'],
      ['10', '0.1'],
      ['100', '1'],
      ['.5', '0.005'],
      ['5.', '0.05'],
      ['-0.5', '-0.005'],
      ['+7', '0.07'],
      [' 7 ', '0.07'],
      ['0', '0'],
      ['-0', '0'],
      ['1E-7', '0.000000001'],
      ['1.5e2', '1.5'],
      ['12345678901234567890123', '123456789012345678901.23'],
      ['0.0000000001', '0.000000000001'],
    ];
    for (const [cents, dollars] of cases) {
      const notes = emptyNotes();
      assert.equal(centsToDecimal(cents, where, notes), dollars, cents);
      assert.equal(notes.rounded, 0, cents);
    }
    const notes = emptyNotes();
    assert.equal(centsToDecimal('0.00000000005', where, notes), '0');
    assert.equal(centsToDecimal('0.00000000015', where, notes), '0.000000000002');
    assert.equal(notes.rounded, 2);
  });

  it('refuses what is not a decimal amount', () => {
    for (const bad of ['', '.', '-', '12,34', '1.2.3', '$1', '1e', '1e1000', 'NaN', '0x10']) {
      throwsBilling(() => centsToDecimal(bad, { field: 'x.amount' }, emptyNotes()), 'INVALID_VALUE', {
        field: 'x.amount',
        says: 'not a decimal amount in cents',
      });
    }
    throwsBilling(() => centsToDecimal(`1${'0'.repeat(40)}`, { field: 'x.amount' }, emptyNotes()), 'INVALID_VALUE', {
      field: 'x.amount',
      says: 'out of range',
    });
  });
});

function page(result: string): string {
  return `{"has_more": false, "next_page": null, "data": [{"starting_at": "2025-08-01T00:00:00Z",
    "ending_at": "2025-08-02T00:00:00Z", "results": [
      {${result}}
    ]}]}`;
}

describe('parseAnthropicCostPage errors', () => {
  const parse = (text: string) => () =>
    parseAnthropicCostPage(parseJson(text), { location: { file: 'cost.json' } }, emptyNotes());
  const at = 'data[0].results[0]';

  it('names a missing or mistyped amount', () => {
    throwsBilling(parse(page('"currency": "USD"')), 'MISSING_FIELD', {
      file: 'cost.json',
      line: 3,
      field: `${at}.amount`,
    });
    // The amount is a decimal string; a JSON number is not what the API documents.
    throwsBilling(parse(page('"currency": "USD", "amount": 123.45')), 'INVALID_VALUE', {
      line: 3,
      field: `${at}.amount`,
      says: 'expected a string, got a number (123.45)',
    });
    throwsBilling(parse(page('"currency": "USD", "amount": "12,34"')), 'INVALID_VALUE', {
      field: `${at}.amount`,
      says: 'not a decimal amount in cents',
    });
    throwsBilling(parse(page('"currency": "USD", "amount": null')), 'INVALID_VALUE', { field: `${at}.amount` });
  });

  it('refuses a bad or unsupported currency', () => {
    throwsBilling(parse(page('"amount": "1"')), 'MISSING_FIELD', { field: `${at}.currency` });
    throwsBilling(parse(page('"currency": "US", "amount": "1"')), 'INVALID_VALUE', {
      field: `${at}.currency`,
      says: 'not an ISO 4217 currency code',
    });
    throwsBilling(parse(page('"currency": 840, "amount": "1"')), 'INVALID_VALUE', {
      field: `${at}.currency`,
      says: 'expected a string',
    });
    throwsBilling(parse(page('"currency": "EUR", "amount": "1"')), 'INVALID_VALUE', {
      field: `${at}.currency`,
      says: 'unsupported currency EUR',
    });
  });

  it('refuses mistyped groups and bad times', () => {
    const ok = '"currency": "USD", "amount": "1"';
    for (const field of ['workspace_id', 'description', 'model', 'service_tier', 'token_type']) {
      throwsBilling(parse(page(`${ok}, "${field}": 1`)), 'INVALID_VALUE', { line: 3, field: `${at}.${field}` });
    }
    throwsBilling(
      parse(page(ok).replace('"ending_at": "2025-08-02T00:00:00Z"', '"ending_at": "2025-08-02T25:00:00Z"')),
      'INVALID_VALUE',
      { line: 2, field: 'data[0].ending_at', says: 'not a time' },
    );
  });

  it('leaves the notes untouched when a later result is bad', () => {
    const notes = emptyNotes();
    const text = COST_PAGE.replace('"amount": "0.00000000000123"', '"amount": "0.0000000000012x"');
    throwsBilling(() => parseAnthropicCostPage(parseJson(text), {}, notes), 'INVALID_VALUE', {
      field: 'data[1].results[4].amount',
    });
    assert.deepEqual(notes, { rounded: 0, empty: 0 });
  });
});
