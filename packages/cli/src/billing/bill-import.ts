/**
 * Bill imports from files: provider usage and cost API pages saved as JSON (one page, an array of
 * pages, or JSON Lines), OpenCost allocation responses (JSON, the same way), FOCUS 1.x and AWS CUR
 * 2.0 exports as CSV. Files are read as streams (CSV) or whole up to the JSON limit, parsed by
 * core's pure parsers, and written in chunks under a new import id that counts for nothing until
 * the import is committed: a bad line anywhere fails the whole import (the error names file, line
 * and field) and what was written is discarded.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  AwsCurParser,
  BillingImportError,
  emptyNotes,
  FocusBillParser,
  JSON_MAX_LENGTH,
  MONEY_SCALE,
  parseAnthropicCostPage,
  parseAnthropicUsagePage,
  parseOpenAiCostsPage,
  parseOpenAiUsagePage,
  parseOpenCostAllocationPage,
  parseScaled,
  readJsonPages,
  utcDay,
} from '@costtrace/core';
import type {
  BilledLine,
  BillSource,
  JsonPage,
  JsonValue,
  ParseNotes,
  ReportPageOptions,
  ReportPageResult,
} from '@costtrace/core';
import type { BillStore } from '@costtrace/store';
import { readParquetBill } from './parquet-bill-reader.js';

/** Lines written per insert. */
const CHUNK_LINES = 20_000;
/** Lines one import may hold: a guard against a runaway file (a month of CUR is far below). */
export const MAX_IMPORT_LINES = 50_000_000;
/** Distinct (source, account, day) an import may cover. */
const MAX_IMPORT_DAYS = 10_000;

export interface BillImportOptions {
  /** The account the lines are booked to; for OpenCost the cluster (default: each allocation's own). */
  readonly account?: string | undefined;
  /** OpenCost: what the report is aggregated by (default namespace, the OpenCost UI's default). */
  readonly aggregate?: string | undefined;
  /** OpenCost: the ISO 4217 currency OpenCost is configured with (default USD). */
  readonly currency?: string | undefined;
  /** Parse and check everything, write nothing. */
  readonly dryRun?: boolean | undefined;
  /** Epoch milliseconds of the import (the later import of a day wins). */
  readonly nowMs?: number | undefined;
}

export interface BillImportSummary {
  readonly importId: string;
  readonly source: BillSource;
  /** The files' names, or the API endpoints read. */
  readonly origins: readonly string[];
  readonly lines: number;
  /** Covered UTC days per account (unix seconds of midnight), sorted. */
  readonly days: ReadonlyMap<string, readonly number[]>;
  /** Billed cost per currency, exact decimal text. */
  readonly billedCost: ReadonlyMap<string, bigint>;
  readonly notes: ParseNotes;
  readonly dryRun: boolean;
}

type PageParser = (page: JsonValue, options: ReportPageOptions, notes: ParseNotes) => ReportPageResult;

const PAGE_PARSERS: Partial<Record<BillSource, PageParser>> = {
  'openai-usage': parseOpenAiUsagePage,
  'openai-costs': parseOpenAiCostsPage,
  'anthropic-usage': parseAnthropicUsagePage,
  'anthropic-cost': parseAnthropicCostPage,
};

/** Collects an import's lines: writes them in chunks, tracks the days and totals it covers. */
class ImportWriter {
  readonly importId = randomUUID();
  lines = 0;
  readonly days = new Map<string, Set<number>>();
  readonly billedCost = new Map<string, bigint>();
  private pending: BilledLine[] = [];
  written = 0;

  constructor(
    private readonly store: BillStore,
    private readonly source: BillSource,
    private readonly dryRun: boolean,
  ) {}

  /** Marks a UTC day of an account as covered by this import (with lines or without). */
  cover(account: string, day: number): void {
    let days = this.days.get(account);
    if (days === undefined) {
      days = new Set();
      this.days.set(account, days);
    }
    days.add(day);
    if (days.size > MAX_IMPORT_DAYS) {
      throw new BillingImportError('TOO_LARGE', `more than ${MAX_IMPORT_DAYS} days in one import: split the period`);
    }
  }

  async add(lines: readonly BilledLine[]): Promise<void> {
    for (const line of lines) {
      this.lines++;
      if (this.lines > MAX_IMPORT_LINES) {
        throw new BillingImportError(
          'TOO_LARGE',
          `more than ${MAX_IMPORT_LINES} lines in one import: split the period`,
        );
      }
      this.cover(line.account, utcDay(line.periodStart));
      if (line.billedCost !== undefined) {
        this.billedCost.set(
          line.currency,
          (this.billedCost.get(line.currency) ?? 0n) + parseScaled(line.billedCost, MONEY_SCALE),
        );
      }
      if (line.source !== this.source) {
        throw new BillingImportError('INVALID_FORMAT', `a ${line.source} line in a ${this.source} import`);
      }
      this.pending.push(line);
    }
    if (this.pending.length >= CHUNK_LINES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = this.pending;
    this.pending = [];
    if (!this.dryRun) await this.store.insertBilledLines(this.importId, chunk);
    this.written += chunk.length;
  }
}

async function readJsonFile(file: string): Promise<JsonPage[]> {
  const size = (await stat(file)).size;
  if (size > JSON_MAX_LENGTH) {
    throw new BillingImportError(
      'TOO_LARGE',
      `${size} bytes is over the ${JSON_MAX_LENGTH}-byte limit of a JSON bill file: save the pages in several files`,
      { file },
    );
  }
  return readJsonPages(await readFile(file, 'utf8'), file);
}

async function readPages(
  pages: Iterable<JsonPage> | AsyncIterable<JsonPage>,
  parse: PageParser,
  account: string,
  notes: ParseNotes,
  writer: ImportWriter,
): Promise<void> {
  for await (const { page, location } of pages) {
    const { lines, periods, coveredAccounts } = parse(page, { account, location }, notes);
    // A bucket without results still says the day was reported: nothing was billed on it.
    for (const covered of coveredAccounts ?? [account]) {
      for (const { start, end } of periods) {
        for (let day = utcDay(start); day < end; day += 86_400) writer.cover(covered, day);
      }
    }
    await writer.add(lines);
  }
}

async function readCsvFile(
  file: string,
  source: 'focus' | 'aws-cur',
  account: string | undefined,
  notes: ParseNotes,
  writer: ImportWriter,
): Promise<void> {
  const parser = source === 'focus' ? new FocusBillParser({ file, account }) : new AwsCurParser({ file, account });
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1024 * 1024 });
  for await (const chunk of stream as AsyncIterable<string>) await writer.add(parser.push(chunk));
  await writer.add(parser.end());
  notes.rounded += parser.notes.rounded;
  notes.empty += parser.notes.empty;
}

/**
 * Where an import's lines come from: a file (JSON pages or CSV, by the format), or API pages
 * fetched from a provider (`origin` names the endpoint in the summary and the import's record).
 */
export type BillInput =
  { readonly file: string } | { readonly origin: string; readonly pages: AsyncIterable<JsonPage> };

/** Imports `files` as one import of `source` (see importBill). */
export function importBillFiles(
  store: BillStore,
  source: BillSource,
  files: readonly string[],
  options: BillImportOptions = {},
): Promise<BillImportSummary> {
  return importBill(
    store,
    source,
    files.map((file) => ({ file })),
    options,
  );
}

/**
 * Imports `inputs` as one import of `source`: all or nothing. Throws BillingImportError (with the
 * file or URL, line and field) for bad input, after discarding whatever was written.
 */
export async function importBill(
  store: BillStore,
  source: BillSource,
  inputs: readonly BillInput[],
  options: BillImportOptions = {},
): Promise<BillImportSummary> {
  const dryRun = options.dryRun === true;
  const writer = new ImportWriter(store, source, dryRun);
  const notes = emptyNotes();
  const account = options.account ?? '';
  const origins = inputs.map((input) => ('file' in input ? basename(input.file) : input.origin));
  // OpenCost books each allocation to its cluster unless the account is given: the parser is told
  // the account only when it was.
  const parse: PageParser | undefined =
    source === 'opencost'
      ? (page, { location }, pageNotes) =>
          parseOpenCostAllocationPage(
            page,
            {
              location,
              account: options.account,
              aggregate: options.aggregate ?? 'namespace',
              currency: options.currency,
            },
            pageNotes,
          )
      : PAGE_PARSERS[source];
  try {
    for (const input of inputs) {
      if (!('file' in input)) {
        if (parse === undefined) throw new BillingImportError('INVALID_FORMAT', `${source} is not an API report`);
        await readPages(input.pages, parse, account, notes, writer);
        continue;
      }
      const { file } = input;
      try {
        if (parse !== undefined) await readPages(await readJsonFile(file), parse, account, notes, writer);
        else if (source === 'focus' || source === 'aws-cur') {
          if (/\.parquet$/i.test(file)) {
            for await (const lines of readParquetBill(file, source, options.account, notes)) await writer.add(lines);
          } else await readCsvFile(file, source, options.account, notes, writer);
        }
      } catch (err) {
        if (err instanceof BillingImportError) throw err.inFile(file);
        if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('E')) {
          throw new BillingImportError('INVALID_FORMAT', `cannot read the file: ${err.message}`, { file }, err);
        }
        throw err;
      }
    }
    await writer.flush();
  } catch (err) {
    if (writer.written > 0 && !dryRun) await store.discardBillImport(writer.importId).catch(() => undefined);
    throw err;
  }
  if (!dryRun) {
    const importedAtMicros = BigInt(options.nowMs ?? Date.now()) * 1000n;
    await store.commitBillImport(
      [...writer.days].map(([account, days]) => ({
        importId: writer.importId,
        source,
        account,
        days: [...days].sort((a, b) => a - b),
        importedAtMicros,
        lines: writer.lines,
        origin: origins.join(', ').slice(0, 1000),
      })),
    );
  }
  return {
    importId: writer.importId,
    source,
    origins,
    lines: writer.lines,
    days: new Map([...writer.days].map(([account, days]) => [account, [...days].sort((a, b) => a - b)])),
    billedCost: writer.billedCost,
    notes,
    dryRun,
  };
}
