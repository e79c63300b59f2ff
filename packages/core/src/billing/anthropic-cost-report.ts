import type { BilledKind, BilledLine, ParseNotes } from './billed-line.js';
import { exactDecimal, isZeroDecimal } from './billed-line.js';
import { BillingImportError } from './billing-error.js';
import type { BillingErrorLocation } from './billing-error.js';
import type { JsonObjectReader } from './json-object-reader.js';
import type { JsonValue } from './lossless-json.js';
import { parseReportPage } from './report-page.js';
import type { ReportPageOptions, ReportPageResult } from './report-page.js';

const CURRENCY = /^[A-Z]{3}$/;
/** A decimal as the cost report writes it: "123.45", and the exponent form Python's Decimal may use. */
const CENTS = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/;

/** The kinds of the report's token_type values; any other token type (or none) is 'other'. */
const TOKEN_KINDS: ReadonlyMap<string, BilledKind> = new Map([
  ['uncached_input_tokens', 'input'],
  ['output_tokens', 'output'],
  ['cache_read_input_tokens', 'cache_read'],
  ['cache_creation.ephemeral_1h_input_tokens', 'cache_write'],
  ['cache_creation.ephemeral_5m_input_tokens', 'cache_write'],
]);

/**
 * An amount the cost report states in cents (its "lowest currency unit": "123.45" is $1.2345) as
 * an exact decimal in dollars: the decimal point moves two places in the text, never through a
 * binary double, then `exactDecimal` canonicalizes (and rounds past 12 decimals, counted).
 */
export function centsToDecimal(cents: string, where: BillingErrorLocation, notes: ParseNotes): string {
  const match = CENTS.exec(cents.trim());
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match ?? [];
  if (match === null || (whole === '' && fraction === '')) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `not a decimal amount in cents: ${JSON.stringify(cents.slice(0, 64))}`,
      where,
    );
  }
  const dollars = `${sign}${whole || '0'}.${fraction || '0'}e${Number(exponent) - 2}`;
  try {
    return exactDecimal(dollars, where, notes);
  } catch (err) {
    if (!(err instanceof BillingImportError)) throw err;
    throw new BillingImportError(
      'INVALID_VALUE',
      `amount out of range: ${JSON.stringify(cents.slice(0, 64))} cents`,
      where,
      err,
    );
  }
}

/**
 * One page of the Anthropic Admin API cost report (GET /v1/organizations/cost_report): the usage
 * report's envelope, results `{ currency, amount, workspace_id, description, cost_type,
 * context_window, model, service_tier, token_type, inference_geo }`. Each result is one cost-only
 * line (quantity '0'). `amount` is a decimal string in cents, converted exactly (centsToDecimal);
 * since the unit depends on the currency, only USD is accepted. The kind comes from token_type
 * (cache_creation.* → cache_write), 'other' for web search, code execution and anything else.
 * Zero amounts count in `notes.empty`. Errors as parseAnthropicUsagePage.
 */
export function parseAnthropicCostPage(
  page: JsonValue,
  options: ReportPageOptions,
  notes: ParseNotes,
): ReportPageResult {
  return parseReportPage(page, options, notes, {
    report: 'the Anthropic cost report',
    objectTags: false,
    period: { start: 'starting_at', end: 'ending_at', format: 'rfc3339' },
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
  const currency = result.string('currency').toUpperCase();
  if (!CURRENCY.test(currency)) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `not an ISO 4217 currency code: ${JSON.stringify(currency.slice(0, 16))}`,
      result.where('currency'),
    );
  }
  if (currency !== 'USD') {
    throw new BillingImportError(
      'INVALID_VALUE',
      `unsupported currency ${currency}: amounts are in the currency's lowest unit, which is known for USD (cents) only`,
      result.where('currency'),
    );
  }
  const billedCost = centsToDecimal(result.string('amount'), result.where('amount'), notes);
  const tokenType = result.optionalString('token_type');
  const line: BilledLine = {
    source: 'anthropic-cost',
    provider: 'anthropic',
    account,
    project: result.optionalString('workspace_id') ?? '',
    apiKey: '',
    model: result.optionalString('model') ?? '',
    serviceTier: result.optionalString('service_tier') ?? '',
    periodStart,
    periodEnd,
    kind: (tokenType === undefined ? undefined : TOKEN_KINDS.get(tokenType)) ?? 'other',
    quantity: '0',
    unit: '',
    billedCost,
    listCost: undefined,
    currency,
    description: result.optionalString('description') ?? '',
    chargeCategory: 'Usage',
    service: '',
    resourceId: '',
  };
  return isZeroDecimal(billedCost) ? undefined : line;
}
