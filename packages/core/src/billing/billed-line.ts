import { formatScaled, MONEY_SCALE } from '../money.js';
import { divideRoundHalfEven } from '../rounding.js';
import { BillingImportError } from './billing-error.js';
import type { BillingErrorLocation } from './billing-error.js';

/** The formats bills are imported from. */
export const BILL_SOURCES = [
  /** OpenAI organization Usage API: completions and embeddings buckets (tokens, requests). */
  'openai-usage',
  /** OpenAI organization Costs API: cost per day, project and line item. */
  'openai-costs',
  /** Anthropic Admin API usage report for messages (tokens by kind). */
  'anthropic-usage',
  /** Anthropic Admin API cost report (cost per day, workspace and description). */
  'anthropic-cost',
  /** A FinOps FOCUS 1.x cost and usage dataset (AWS, Azure, GCP exports), CSV or Parquet. */
  'focus',
  /** AWS Cost and Usage Report 2.0 (Data Exports), CSV or Parquet. */
  'aws-cur',
  /** OpenCost allocation API responses: a Kubernetes cluster's cost per window, aggregate and component. */
  'opencost',
] as const;
export type BillSource = (typeof BILL_SOURCES)[number];

/**
 * What a billed quantity counts. Token kinds are disjoint, as costtrace prices them: `input` is
 * uncached input only (OpenAI's input_tokens minus its cached tokens; Anthropic's
 * uncached_input_tokens), `cache_read` and `cache_write` the cached ones.
 */
export const BILLED_KINDS = [
  'input',
  'output',
  'cache_read',
  'cache_write',
  /** Model requests (OpenAI num_model_requests). */
  'requests',
  /** GPU time, in hours (cloud bills: GPU instances' usage). */
  'gpu_hours',
  /** Instance time, in hours (other compute). */
  'instance_hours',
  /** A cost line without a quantity costtrace compares (tax, credit, support, web search…). */
  'other',
] as const;
export type BilledKind = (typeof BILLED_KINDS)[number];

/**
 * One line of an imported bill: a quantity of one kind and/or a cost, for one charge period and
 * one combination of provider, account, project, API key, model and service tier. Usage reports
 * give quantities without cost (`billedCost` undefined), cost reports cost without quantity
 * (`quantity` '0'), billing exports often both.
 *
 * Amounts and quantities are exact decimal text in canonical form (no exponent, no trailing
 * zeros, at most 12 decimals: see `exactDecimal`).
 */
export interface BilledLine {
  readonly source: BillSource;
  /** costtrace's provider name: 'openai', 'anthropic', 'aws', 'azure', 'gcp', or the export's name lower-cased. */
  readonly provider: string;
  /** Billing account ('' when the source has none: the API reports are per organization). */
  readonly account: string;
  /** OpenAI project_id, Anthropic workspace_id, FOCUS SubAccountId, CUR usage account; '' when not grouped. */
  readonly project: string;
  readonly apiKey: string;
  readonly model: string;
  /** 'standard', 'batch', 'priority', 'flex', 'scale'…; '' when not reported. */
  readonly serviceTier: string;
  /** Charge period start, unix seconds UTC (inclusive). */
  readonly periodStart: number;
  /** Charge period end, unix seconds UTC (exclusive). */
  readonly periodEnd: number;
  readonly kind: BilledKind;
  /** Exact decimal; '0' for a cost-only line. */
  readonly quantity: string;
  /** 'tokens', 'requests', 'hours', or the source's unit. */
  readonly unit: string;
  /** What is billed, exact decimal in currency units; undefined for a usage-only line. */
  readonly billedCost: string | undefined;
  /** The list (public, on-demand) cost when the source states it. */
  readonly listCost: string | undefined;
  /** ISO 4217, upper case. */
  readonly currency: string;
  /** OpenAI line_item, Anthropic description, FOCUS ChargeDescription, CUR line item description. */
  readonly description: string;
  /** FOCUS ChargeCategory ('Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment'); API reports: 'Usage'. */
  readonly chargeCategory: string;
  /** FOCUS ServiceName / CUR product code; API reports: the endpoint ('completions', 'embeddings', 'messages'). */
  readonly service: string;
  readonly resourceId: string;
}

/** What a parser read besides the lines: for the import summary (nothing is adjusted silently). */
export interface ParseNotes {
  /** Amounts or quantities with more than 12 decimals, rounded half to even to 12. */
  rounded: number;
  /** Lines skipped because they carry nothing (zero quantity and zero or no cost). */
  empty: number;
}

export function emptyNotes(): ParseNotes {
  return { rounded: 0, empty: 0 };
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;

/**
 * A decimal number as written in a bill (JSON number or string, CSV cell: "12", "-0.5",
 * "1.2E-5", "0.00000000000012345"), in canonical exact form with at most 12 decimals. More
 * decimals are rounded once, half to even, and counted in `notes.rounded`; anything that is not a
 * plain decimal number is a BillingImportError naming where it is.
 */
export function exactDecimal(text: string, where: BillingErrorLocation, notes: ParseNotes): string {
  const trimmed = text.trim();
  const match = DECIMAL.exec(trimmed);
  const [, sign, whole = '', fraction = '', exponent] = match ?? [];
  if (match === null || (whole === '' && fraction === '')) {
    throw new BillingImportError('INVALID_VALUE', `not a decimal number: ${JSON.stringify(text.slice(0, 64))}`, where);
  }
  // digits × 10^(shift), shift = exponent - fraction length
  let digits = BigInt(`${whole}${fraction}` || '0');
  const shift = Number(exponent ?? '0') - fraction.length;
  if (shift > 40) throw new BillingImportError('INVALID_VALUE', `number out of range: ${trimmed.slice(0, 64)}`, where);
  let scaled: bigint;
  const toScale = shift + MONEY_SCALE;
  if (toScale >= 0) scaled = digits * 10n ** BigInt(toScale);
  else {
    const divisor = 10n ** BigInt(-toScale);
    scaled = divideRoundHalfEven(digits, divisor);
    if (scaled * divisor !== digits) notes.rounded++;
  }
  if (scaled >= 10n ** 38n)
    throw new BillingImportError('INVALID_VALUE', `number out of range: ${trimmed.slice(0, 64)}`, where);
  digits = scaled;
  return formatScaled(sign === '-' ? -digits : digits, MONEY_SCALE);
}

/** Whether a canonical decimal (exactDecimal's output) is zero. */
export function isZeroDecimal(value: string | undefined): boolean {
  return value === undefined || value === '0';
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC)?$/i;

/**
 * An instant as bills write it: RFC 3339 / ISO 8601 with a zone ("2026-11-01T00:00:00Z",
 * "…+01:00"), a date, or a date and time without a zone, which FOCUS and CUR define as UTC. Unix
 * seconds, whole. Sub-second digits are dropped (charge periods are whole seconds).
 */
export function utcSeconds(text: string, where: BillingErrorLocation): number {
  const trimmed = text.trim();
  const m = INSTANT.exec(trimmed);
  if (m !== null) {
    const [, y, mo, d, h = '00', mi = '00', s = '00', zone] = m;
    let seconds = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000;
    const valid =
      new Date(seconds * 1000).getUTCDate() === Number(d) &&
      new Date(seconds * 1000).getUTCMonth() === Number(mo) - 1 &&
      Number(h) < 24 &&
      Number(mi) < 60 &&
      Number(s) < 60;
    if (valid) {
      if (zone !== undefined && !/^(z|utc)$/i.test(zone)) {
        const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
        const offset = (Number(z[2]) * 60 + Number(z[3])) * 60;
        seconds += z[1] === '+' ? -offset : offset;
      }
      return seconds;
    }
  }
  throw new BillingImportError(
    'INVALID_VALUE',
    `not a time: ${JSON.stringify(trimmed.slice(0, 64))} (expected ISO 8601, e.g. 2026-11-01T00:00:00Z)`,
    where,
  );
}

/** The UTC day (unix seconds of its midnight) a charge period starts in: the unit an import replaces. */
export function utcDay(unixSeconds: number): number {
  return Math.floor(unixSeconds / 86_400) * 86_400;
}
