import type { BilledLine, ParseNotes } from './billed-line.js';
import { emptyNotes, utcSeconds } from './billed-line.js';
import { BillingImportError } from './billing-error.js';
import type { BillingErrorLocation } from './billing-error.js';
import { JsonObjectReader } from './json-object-reader.js';
import type { JsonValue } from './lossless-json.js';

/** Most results one API page may hold (all its buckets together): a guard, far above real pages. */
export const MAX_RESULTS_PER_PAGE = 100_000;

/** What the page parsers of the provider usage and cost APIs take besides the page. */
export interface ReportPageOptions {
  /** The billing account the lines are booked to (the APIs report per organization); default ''. */
  readonly account?: string | undefined;
  /** Where the page is (file or URL, JSON Lines line, index in an array of pages), named in errors. */
  readonly location?: BillingErrorLocation | undefined;
}

/** A bucket's charge period, unix seconds (end exclusive). */
export interface BucketPeriod {
  readonly start: number;
  readonly end: number;
}

/** One parsed API page: its lines, and the pagination the caller follows. */
export interface ReportPageResult {
  readonly lines: BilledLine[];
  /**
   * Every bucket's period, with results or without: the days the page covers (a day with an
   * empty bucket was reported, and nothing was billed on it).
   */
  readonly periods: readonly BucketPeriod[];
  /**
   * The accounts `periods` are covered for, when the page books its lines to accounts of its own
   * (OpenCost: the cluster of each allocation); absent, the account the page was read for.
   */
  readonly coveredAccounts?: readonly string[] | undefined;
  /** The API's `has_more`: another page follows. */
  readonly hasMore: boolean;
  /** The API's `next_page` cursor; undefined when null or absent. */
  readonly nextPage: string | undefined;
}

/** A time bucket of a page and its results, already known to be within the page limit. */
export interface ReportBucket {
  readonly bucket: JsonObjectReader;
  readonly results: readonly JsonObjectReader[];
}

/** A page's envelope, shared by the OpenAI and Anthropic reports: `{ data, has_more, next_page }`. */
export interface ReportEnvelope {
  readonly buckets: readonly ReportBucket[];
  readonly hasMore: boolean;
  readonly nextPage: string | undefined;
}

/**
 * Reads `{ data: [ { …bucket, results: [ … ] } ], has_more, next_page }`. With `objectTags` (the
 * OpenAI pages), a present `object` member must be "page" at the root and "bucket" in `data`, so
 * a different document is refused as such rather than as a missing field. The result count of
 * the whole page is checked against MAX_RESULTS_PER_PAGE before any result is read.
 */
export function readReportEnvelope(
  page: JsonValue,
  location: BillingErrorLocation | undefined,
  report: string,
  objectTags: boolean,
): ReportEnvelope {
  const root = JsonObjectReader.root(page, location);
  if (objectTags) checkTag(root, 'page', report);
  const hasMore = root.boolean('has_more');
  const nextPage = root.optionalString('next_page');
  if (hasMore && nextPage === undefined) {
    throw new BillingImportError('INVALID_VALUE', 'has_more is true but next_page is null', root.where('next_page'));
  }
  const data = root.objects('data');
  let total = 0;
  for (const bucket of data) {
    total += bucket.array('results').length;
    if (total > MAX_RESULTS_PER_PAGE) {
      throw new BillingImportError(
        'TOO_LARGE',
        `the page holds more than ${MAX_RESULTS_PER_PAGE} results (fetch with a smaller limit or bucket width)`,
        bucket.where('results'),
      );
    }
  }
  const buckets = data.map((bucket) => {
    if (objectTags) checkTag(bucket, 'bucket', report);
    return { bucket, results: bucket.objects('results') };
  });
  return { buckets, hasMore, nextPage };
}

function checkTag(reader: JsonObjectReader, expected: string, report: string): void {
  const tag = reader.optionalString('object');
  if (tag !== undefined && tag !== expected) {
    throw new BillingImportError(
      'INVALID_FORMAT',
      `expected object "${expected}" of ${report}, got ${JSON.stringify(tag.slice(0, 64))}`,
      reader.where('object'),
    );
  }
}

/** A bucket's period must end after it starts: a reversed or empty period is not a bucket. */
export function checkPeriod(bucket: JsonObjectReader, start: number, end: number, endName: string): void {
  if (end <= start) {
    throw new BillingImportError(
      'INVALID_VALUE',
      `the bucket does not end after it starts (start ${start}, end ${end}, unix seconds)`,
      bucket.where(endName),
    );
  }
}

/** Where a line of a result is booked: the account and the result's bucket period. */
export interface ResultContext {
  readonly account: string;
  readonly periodStart: number;
  readonly periodEnd: number;
}

/** What differs between the providers' report pages. */
export interface ReportSpec {
  /** Named in errors, e.g. "the OpenAI Usage API". */
  readonly report: string;
  /** Check `object` tags ("page", "bucket") where present (the OpenAI pages). */
  readonly objectTags: boolean;
  /** The bucket's start and end members: unix seconds (OpenAI) or RFC 3339 text (Anthropic). */
  readonly period: { readonly start: string; readonly end: string; readonly format: 'unix' | 'rfc3339' };
  /** Appends the lines of one result (none: the result carried nothing, counted as empty). */
  readonly result: (result: JsonObjectReader, context: ResultContext, lines: BilledLine[], notes: ParseNotes) => void;
}

/**
 * Walks a report page: the envelope, each bucket's period (checked), each result through
 * `spec.result`. All or nothing: a bad member anywhere throws, with no lines and no counts left.
 */
export function parseReportPage(
  page: JsonValue,
  options: ReportPageOptions,
  notes: ParseNotes,
  spec: ReportSpec,
): ReportPageResult {
  return withPageNotes(notes, (local) => {
    const { buckets, hasMore, nextPage } = readReportEnvelope(page, options.location, spec.report, spec.objectTags);
    const lines: BilledLine[] = [];
    const periods: BucketPeriod[] = [];
    const { start, end, format } = spec.period;
    for (const { bucket, results } of buckets) {
      const time = (name: string): number =>
        format === 'unix' ? bucket.unixSeconds(name) : utcSeconds(bucket.string(name), bucket.where(name));
      const periodStart = time(start);
      const periodEnd = time(end);
      checkPeriod(bucket, periodStart, periodEnd, end);
      periods.push({ start: periodStart, end: periodEnd });
      const context = { account: options.account ?? '', periodStart, periodEnd };
      for (const result of results) {
        const before = lines.length;
        spec.result(result, context, lines, local);
        if (lines.length === before) local.empty++;
      }
    }
    return { lines, periods, hasMore, nextPage };
  });
}

/**
 * Runs a page parser on notes of its own and adds them to the caller's only when it succeeds: a
 * page that fails leaves neither lines nor counts behind.
 */
export function withPageNotes<T>(notes: ParseNotes, parse: (local: ParseNotes) => T): T {
  const local = emptyNotes();
  const result = parse(local);
  notes.rounded += local.rounded;
  notes.empty += local.empty;
  return result;
}

/** A line without what varies between the lines of one result. */
export type LineBase = Omit<BilledLine, 'kind' | 'quantity' | 'unit'>;

/**
 * Appends a usage line for `count` of `kind` unless the count is zero: a zero quantity says
 * nothing a bill comparison could use. The line is written out member by member rather than
 * spread from `base`: a spread that overrides a member makes V8 build a slow dictionary object,
 * which costs seconds on a page of 100,000 results.
 */
export function pushCount(
  lines: BilledLine[],
  base: LineBase,
  kind: BilledLine['kind'],
  count: bigint,
  unit: string,
  description: string = base.description,
): void {
  if (count === 0n) return;
  lines.push({
    source: base.source,
    provider: base.provider,
    account: base.account,
    project: base.project,
    apiKey: base.apiKey,
    model: base.model,
    serviceTier: base.serviceTier,
    periodStart: base.periodStart,
    periodEnd: base.periodEnd,
    kind,
    quantity: count.toString(),
    unit,
    billedCost: base.billedCost,
    listCost: base.listCost,
    currency: base.currency,
    description,
    chargeCategory: base.chargeCategory,
    service: base.service,
    resourceId: base.resourceId,
  });
}
