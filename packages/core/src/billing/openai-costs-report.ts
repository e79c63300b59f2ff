import type { BilledKind, BilledLine, ParseNotes } from './billed-line.js';
import { exactDecimal, isZeroDecimal } from './billed-line.js';
import { BillingImportError } from './billing-error.js';
import type { JsonObjectReader } from './json-object-reader.js';
import type { JsonValue } from './lossless-json.js';
import { parseReportPage } from './report-page.js';
import type { ReportPageOptions, ReportPageResult } from './report-page.js';

/** `object` of a result of GET /v1/organization/costs. */
export const OPENAI_COSTS_RESULT = 'organization.costs.result';

const CURRENCY = /^[A-Z]{3}$/;

/** The kinds of the "<model>, <kind>" line items, after an optional "batch " prefix. */
const LINE_ITEM_KINDS: ReadonlyMap<string, BilledKind> = new Map([
  ['input', 'input'],
  ['cached input', 'cache_read'],
  ['output', 'output'],
  ['cache write', 'cache_write'],
]);

/** What a line item names, when it is of the "<model>, <kind>" shape. */
export interface OpenAiLineItem {
  readonly model: string;
  readonly kind: BilledKind;
  /** 'batch' for a "batch input" / "batch output" item, else ''. */
  readonly serviceTier: string;
}

/**
 * Reads an OpenAI Costs line item like "gpt-4o-2024-08-06, input", "gpt-4o-mini, cached input"
 * or "o3, batch output" into model, kind and tier, so cost lines can be compared with usage lines
 * per model and kind. Any other item ("web search tool calls", "gpt-4o, audio input", a model
 * with spaces) is model '' and kind 'other': a guess would attribute cost to the wrong kind.
 */
export function parseOpenAiLineItem(lineItem: string): OpenAiLineItem {
  const other: OpenAiLineItem = { model: '', kind: 'other', serviceTier: '' };
  const comma = lineItem.lastIndexOf(', ');
  if (comma === -1) return other;
  const model = lineItem.slice(0, comma).trim();
  let kindText = lineItem
    .slice(comma + 2)
    .trim()
    .toLowerCase();
  let serviceTier = '';
  if (kindText.startsWith('batch ')) {
    serviceTier = 'batch';
    kindText = kindText.slice('batch '.length).trim();
  }
  const kind = LINE_ITEM_KINDS.get(kindText);
  if (kind === undefined || !/^\S+$/.test(model)) return other;
  return { model, kind, serviceTier };
}

/**
 * One page of the OpenAI organization Costs API: the same page and bucket envelope as the Usage
 * API, results `{ object: "organization.costs.result", amount: { value, currency }, line_item,
 * project_id }`. Each result is one cost-only line (quantity '0'): billedCost is the exact
 * decimal of `amount.value` read from the JSON number's text (0.06 stays 0.06), the currency
 * upper-cased ("usd" → "USD"). Negative amounts (credits) are kept; zero amounts count in
 * `notes.empty`. Errors as parseOpenAiUsagePage.
 */
export function parseOpenAiCostsPage(page: JsonValue, options: ReportPageOptions, notes: ParseNotes): ReportPageResult {
  return parseReportPage(page, options, notes, {
    report: 'the OpenAI Costs API',
    objectTags: true,
    period: { start: 'start_time', end: 'end_time', format: 'unix' },
    result: (result, { account, periodStart, periodEnd }, lines, notes) => {
      const line = readResult(result, account, periodStart, periodEnd, notes);
      if (line !== undefined) lines.push(line);
    },
  });
}

function readResult(
  result: JsonObjectReader,
  account: string,
  periodStart: number,
  periodEnd: number,
  notes: ParseNotes,
): BilledLine | undefined {
  const object = result.optionalString('object');
  if (object !== undefined && object !== OPENAI_COSTS_RESULT) {
    throw new BillingImportError(
      'INVALID_FORMAT',
      `expected a costs result (${OPENAI_COSTS_RESULT}), got ${JSON.stringify(object.slice(0, 80))}`,
      result.where('object'),
    );
  }
  const amount = result.object('amount');
  const billedCost = exactDecimal(amount.numberText('value'), amount.where('value'), notes);
  const currency = amount.string('currency').toUpperCase();
  if (!CURRENCY.test(currency)) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `not an ISO 4217 currency code: ${JSON.stringify(currency.slice(0, 16))}`,
      amount.where('currency'),
    );
  }
  const lineItem = result.optionalString('line_item');
  const project = result.optionalString('project_id') ?? '';
  if (isZeroDecimal(billedCost)) return undefined;
  const { model, kind, serviceTier } = lineItem === undefined ? parseOpenAiLineItem('') : parseOpenAiLineItem(lineItem);
  return {
    source: 'openai-costs',
    provider: 'openai',
    account,
    project,
    apiKey: '',
    model,
    serviceTier,
    periodStart,
    periodEnd,
    kind,
    quantity: '0',
    unit: '',
    billedCost,
    listCost: undefined,
    currency,
    description: lineItem ?? '',
    chargeCategory: 'Usage',
    service: '',
    resourceId: '',
  };
}
