import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyNotes, parseJson, parseOpenAiCostsPage, parseOpenAiLineItem } from '../../src/billing/index.js';
import type { BilledLine } from '../../src/billing/index.js';
import { throwsBilling } from './api-report-assertions.js';

/** A page as GET /v1/organization/costs?group_by=project_id,line_item returns it. */
const COSTS_PAGE = `{
  "object": "page",
  "data": [
    {
      "object": "bucket",
      "start_time": 1730419200,
      "end_time": 1730505600,
      "results": [
        {
          "object": "organization.costs.result",
          "amount": { "value": 0.06, "currency": "usd" },
          "line_item": "gpt-4o-2024-08-06, input",
          "project_id": "proj_abc"
        },
        {
          "object": "organization.costs.result",
          "amount": { "value": 0.1, "currency": "usd" },
          "line_item": "gpt-4o-2024-08-06, output",
          "project_id": "proj_abc"
        },
        {
          "object": "organization.costs.result",
          "amount": { "value": 0.2, "currency": "usd" },
          "line_item": "gpt-4o-mini-2024-07-18, cached input",
          "project_id": "proj_abc"
        },
        {
          "object": "organization.costs.result",
          "amount": { "value": 1.5e-3, "currency": "usd" },
          "line_item": "gpt-4o-mini-2024-07-18, batch input",
          "project_id": "proj_batch"
        },
        {
          "object": "organization.costs.result",
          "amount": { "value": 0, "currency": "usd" },
          "line_item": "gpt-4o-mini-2024-07-18, batch output",
          "project_id": "proj_batch"
        }
      ]
    },
    {
      "object": "bucket",
      "start_time": 1730505600,
      "end_time": 1730592000,
      "results": [
        {
          "object": "organization.costs.result",
          "amount": { "value": 12.345678901234567, "currency": "usd" },
          "line_item": "o3-2025-04-16, batch output",
          "project_id": null
        },
        {
          "object": "organization.costs.result",
          "amount": { "value": 2.5, "currency": "usd" },
          "line_item": "web search tool calls",
          "project_id": "proj_abc"
        },
        {
          "object": "organization.costs.result",
          "amount": { "value": 0.75, "currency": "usd" },
          "line_item": "gpt-4o-audio-preview-2024-12-17, audio input",
          "project_id": "proj_voice"
        },
        {
          "object": "organization.costs.result",
          "amount": { "value": -5.00, "currency": "usd" },
          "line_item": null,
          "project_id": null
        }
      ]
    }
  ],
  "has_more": true,
  "next_page": "page_AAAAAGdGxdEAAAAAZ0wZcA=="
}`;

const COST = {
  source: 'openai-costs',
  provider: 'openai',
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

const NOV_1 = { ...COST, periodStart: 1730419200, periodEnd: 1730505600 } as const;
const NOV_2 = { ...COST, periodStart: 1730505600, periodEnd: 1730592000 } as const;

describe('parseOpenAiCostsPage', () => {
  it('reads every amount exactly, by project and line item', () => {
    const notes = emptyNotes();
    const page = parseOpenAiCostsPage(parseJson(COSTS_PAGE), {}, notes);
    const expected: BilledLine[] = [
      {
        ...NOV_1,
        project: 'proj_abc',
        model: 'gpt-4o-2024-08-06',
        serviceTier: '',
        kind: 'input',
        billedCost: '0.06',
        description: 'gpt-4o-2024-08-06, input',
      },
      {
        ...NOV_1,
        project: 'proj_abc',
        model: 'gpt-4o-2024-08-06',
        serviceTier: '',
        kind: 'output',
        billedCost: '0.1',
        description: 'gpt-4o-2024-08-06, output',
      },
      {
        ...NOV_1,
        project: 'proj_abc',
        model: 'gpt-4o-mini-2024-07-18',
        serviceTier: '',
        kind: 'cache_read',
        billedCost: '0.2',
        description: 'gpt-4o-mini-2024-07-18, cached input',
      },
      {
        ...NOV_1,
        project: 'proj_batch',
        model: 'gpt-4o-mini-2024-07-18',
        serviceTier: 'batch',
        kind: 'input',
        billedCost: '0.0015',
        description: 'gpt-4o-mini-2024-07-18, batch input',
      },
      // The zero batch output is not a line (notes.empty).
      // 12.345678901234567 has 15 decimals: rounded half to even to 12 (…234|567 → …235).
      {
        ...NOV_2,
        project: '',
        model: 'o3-2025-04-16',
        serviceTier: 'batch',
        kind: 'output',
        billedCost: '12.345678901235',
        description: 'o3-2025-04-16, batch output',
      },
      {
        ...NOV_2,
        project: 'proj_abc',
        model: '',
        serviceTier: '',
        kind: 'other',
        billedCost: '2.5',
        description: 'web search tool calls',
      },
      {
        ...NOV_2,
        project: 'proj_voice',
        model: '',
        serviceTier: '',
        kind: 'other',
        billedCost: '0.75',
        description: 'gpt-4o-audio-preview-2024-12-17, audio input',
      },
      // A credit: negative, kept.
      { ...NOV_2, project: '', model: '', serviceTier: '', kind: 'other', billedCost: '-5', description: '' },
    ];
    assert.deepEqual(page, {
      lines: expected,
      periods: [
        { start: 1730419200, end: 1730505600 },
        { start: 1730505600, end: 1730592000 },
      ],
      hasMore: true,
      nextPage: 'page_AAAAAGdGxdEAAAAAZ0wZcA==',
    });
    assert.deepEqual(notes, { rounded: 1, empty: 1 });
  });

  it('books the lines to the account given, and accepts results without object, line item or project', () => {
    const text = `{"object":"page","has_more":false,"next_page":null,"data":[{"object":"bucket",
      "start_time":1730419200,"end_time":1730505600,"results":[{"amount":{"value":3,"currency":"EUR"}}]}]}`;
    const { lines } = parseOpenAiCostsPage(parseJson(text), { account: 'org-1' }, emptyNotes());
    assert.deepEqual(lines, [
      {
        ...NOV_1,
        account: 'org-1',
        project: '',
        model: '',
        serviceTier: '',
        kind: 'other',
        billedCost: '3',
        currency: 'EUR',
        description: '',
      },
    ]);
  });
});

describe('parseOpenAiLineItem', () => {
  it('reads "<model>, <kind>" line items', () => {
    assert.deepEqual(parseOpenAiLineItem('gpt-4o-2024-08-06, input'), {
      model: 'gpt-4o-2024-08-06',
      kind: 'input',
      serviceTier: '',
    });
    assert.deepEqual(parseOpenAiLineItem('gpt-4.1, cached input'), {
      model: 'gpt-4.1',
      kind: 'cache_read',
      serviceTier: '',
    });
    assert.deepEqual(parseOpenAiLineItem('o3, batch output'), { model: 'o3', kind: 'output', serviceTier: 'batch' });
    assert.deepEqual(parseOpenAiLineItem('o3, batch cached input'), {
      model: 'o3',
      kind: 'cache_read',
      serviceTier: 'batch',
    });
    assert.deepEqual(parseOpenAiLineItem('gpt-realtime, cache write'), {
      model: 'gpt-realtime',
      kind: 'cache_write',
      serviceTier: '',
    });
    assert.deepEqual(parseOpenAiLineItem('ft:gpt-4o-mini:acme::abc123, output'), {
      model: 'ft:gpt-4o-mini:acme::abc123',
      kind: 'output',
      serviceTier: '',
    });
  });

  it('reads anything else as model "" and kind other', () => {
    const other = { model: '', kind: 'other', serviceTier: '' };
    for (const item of [
      '',
      'web search tool calls',
      'gpt-4o, audio input',
      'Image models, input',
      ', input',
      'gpt-4o,input',
      'gpt-4o, batch',
      'gpt-4o, constructor',
    ]) {
      assert.deepEqual(parseOpenAiLineItem(item), other, item);
    }
  });
});

function page(result: string): string {
  return `{"object": "page", "has_more": false, "next_page": null, "data": [{"object": "bucket",
    "start_time": 1730419200, "end_time": 1730505600, "results": [
      {${result}}
    ]}]}`;
}

describe('parseOpenAiCostsPage errors', () => {
  const parse = (text: string) => () =>
    parseOpenAiCostsPage(parseJson(text), { location: { file: 'costs.json' } }, emptyNotes());
  const at = 'data[0].results[0]';

  it('names a missing or mistyped amount', () => {
    throwsBilling(parse(page('"line_item": "x"')), 'MISSING_FIELD', {
      file: 'costs.json',
      line: 3,
      field: `${at}.amount`,
    });
    throwsBilling(parse(page('"amount": 0.06')), 'INVALID_VALUE', {
      field: `${at}.amount`,
      says: 'expected an object',
    });
    throwsBilling(parse(page('"amount": {"currency": "usd"}')), 'MISSING_FIELD', { field: `${at}.amount.value` });
    throwsBilling(parse(page('"amount": {"value": "0.06", "currency": "usd"}')), 'INVALID_VALUE', {
      line: 3,
      field: `${at}.amount.value`,
      says: 'expected a number, got a string ("0.06")',
    });
    throwsBilling(parse(page('"amount": {"value": null, "currency": "usd"}')), 'INVALID_VALUE', {
      field: `${at}.amount.value`,
    });
    throwsBilling(parse(page('"amount": {"value": 1e99999, "currency": "usd"}')), 'INVALID_VALUE', {
      field: `${at}.amount.value`,
    });
  });

  it('refuses a bad currency', () => {
    throwsBilling(parse(page('"amount": {"value": 1}')), 'MISSING_FIELD', { field: `${at}.amount.currency` });
    throwsBilling(parse(page('"amount": {"value": 1, "currency": "us dollars"}')), 'INVALID_VALUE', {
      field: `${at}.amount.currency`,
      says: 'not an ISO 4217 currency code',
    });
    throwsBilling(parse(page('"amount": {"value": 1, "currency": "$"}')), 'INVALID_VALUE', {
      field: `${at}.amount.currency`,
    });
    throwsBilling(parse(page('"amount": {"value": 1, "currency": 840}')), 'INVALID_VALUE', {
      field: `${at}.amount.currency`,
      says: 'expected a string',
    });
  });

  it('refuses mistyped groups and other result objects', () => {
    const amount = '"amount": {"value": 1, "currency": "usd"}';
    throwsBilling(parse(page(`${amount}, "line_item": 7`)), 'INVALID_VALUE', { field: `${at}.line_item` });
    throwsBilling(parse(page(`${amount}, "project_id": {}`)), 'INVALID_VALUE', { field: `${at}.project_id` });
    throwsBilling(parse(page(`${amount}, "object": "organization.usage.completions.result"`)), 'INVALID_FORMAT', {
      field: `${at}.object`,
      says: 'expected a costs result',
    });
  });

  it('leaves the notes untouched when a later result is bad', () => {
    const notes = emptyNotes();
    const text = COSTS_PAGE.replace('"value": -5.00, "currency": "usd"', '"value": -5.00, "currency": "usd!"');
    throwsBilling(() => parseOpenAiCostsPage(parseJson(text), {}, notes), 'INVALID_VALUE', {
      field: 'data[1].results[3].amount.currency',
    });
    assert.deepEqual(notes, { rounded: 0, empty: 0 });
  });
});
