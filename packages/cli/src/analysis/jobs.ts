/**
 * `costtrace jobs`: training, fine-tuning, batch inference and evaluation jobs as their spans
 * say they ran (docs/jobs.md): cost, GPU-hours, cost per epoch, per sample and per GPU-hour, the
 * recorded estimate beside the actual, the epochs of one job, and each model's training cost
 * beside its inference cost. Money is exact (10^-12 USD), every ratio rounded once half to even.
 */
import { divideRoundHalfEven, formatScaled, JOB_KINDS, parseScaled, TRAINING_JOB_KINDS } from '@costtrace/core';
import {
  jobEpochsSql,
  jobEstimatesSql,
  MAX_JOB_FILTER_VALUES,
  MAX_QUERY_LIMIT,
  modelJobKindsSql,
} from '@costtrace/store';
import type { JobRange, SqlReader } from '@costtrace/store';
import type { CommandOutput } from '../command-args.js';
import type { ArgsResult } from '../args.js';
import { renderRows } from '../table-format.js';
import type { Cell, OutputFormat } from '../table-format.js';
import { COMMON_FLAGS_HELP, flag, parseCommand, percentOf, pico, ratio, usd } from './common-flags.js';
import { usageError } from './command-deps.js';

export const JOBS_USAGE = `costtrace jobs [list] [--kind K]... [--job ID]... [--since 30d] [--until T] [--limit N] [--format table|json|csv]
       costtrace jobs show JOB_ID [--since 90d]
       costtrace jobs models [--since 30d]`;

export const JOBS_HELP = `usage: ${JOBS_USAGE}

Jobs as their spans ran them: spans carry costtrace.job.id and costtrace.job.kind (${JOB_KINDS.join(', ')})
on themselves, an ancestor or the resource, costtrace.job.epoch on epoch spans and
costtrace.job.samples on the spans that processed samples (docs/jobs.md).
  list     one row per job, most expensive first: cost, GPU-hours, epochs, samples, cost per
           epoch, per sample and per GPU-hour, and the latest estimate recorded for the job
           (costtrace estimate training --job ID --record) beside the actual
  show     one job per epoch (spans in no epoch on their own row), and every estimate recorded
  models   per model: training cost (training and fine_tuning jobs) beside inference cost
           (spans in no job, and batch_inference jobs), evaluation, other jobs (no or another
           kind), and the all-in cost per 1,000 requests. A training job names its model with
           costtrace.job.model.
Figures cover the spans that started in the period (--since, default 30d; 90d for show).
--kind and --job narrow the list; repeat them for several.

${COMMON_FLAGS_HELP}

examples:
  costtrace jobs --kind fine_tuning --since 90d
  costtrace jobs show ft-2026-11-30-a
  costtrace jobs models --since 30d --format csv`;

export type JobsArgs =
  | {
      readonly kind: 'list';
      readonly kinds: readonly string[];
      readonly jobIds: readonly string[];
      readonly since: number;
      readonly until: number;
      readonly limit: number;
      readonly format: OutputFormat;
    }
  | {
      readonly kind: 'show';
      readonly jobId: string;
      readonly since: number;
      readonly until: number;
      readonly format: OutputFormat;
    }
  | { readonly kind: 'models'; readonly since: number; readonly until: number; readonly format: OutputFormat };

const OWN_FLAGS = { kind: { type: 'string', multiple: true }, job: { type: 'string', multiple: true } } as const;

const MAX_ID_LENGTH = 1024;

export function parseJobsArgs(argv: readonly string[], nowSeconds: number): ArgsResult<JobsArgs> {
  const sub = argv[0] !== undefined && !argv[0].startsWith('--') ? argv[0] : 'list';
  const parsed = parseCommand(sub === argv[0] ? argv.slice(1) : argv, OWN_FLAGS, nowSeconds, {
    since: sub === 'show' ? '90d' : '30d',
  });
  if (!parsed.ok) return parsed;
  const { positionals, flags, common } = parsed.value;
  if (common.by.length > 0 || common.where.length > 0)
    return { ok: false, message: 'jobs takes --kind and --job to narrow, not --by or --where' };
  const range = { since: common.since, until: common.until, format: common.format };
  const kinds = flags.get('kind') ?? [];
  const jobIds = flags.get('job') ?? [];
  for (const value of [...kinds, ...jobIds])
    if (value.length === 0 || value.length > MAX_ID_LENGTH)
      return { ok: false, message: `--kind and --job take 1 to ${MAX_ID_LENGTH} characters` };
  if (kinds.length + jobIds.length > MAX_JOB_FILTER_VALUES)
    return { ok: false, message: `at most ${MAX_JOB_FILTER_VALUES} --kind and --job values` };
  if (sub === 'list') {
    if (positionals.length > 0) return { ok: false, message: `unexpected argument ${JSON.stringify(positionals[0])}` };
    return { ok: true, value: { kind: 'list', kinds, jobIds, limit: common.limit ?? 100, ...range } };
  }
  if (kinds.length > 0 || jobIds.length > 0 || flag(flags, 'limit') !== undefined)
    return { ok: false, message: `--kind, --job and --limit are for jobs list, not jobs ${sub}` };
  if (sub === 'show') {
    const [jobId, ...rest] = positionals;
    if (jobId === undefined) return { ok: false, message: 'jobs show needs a job id' };
    if (rest.length > 0) return { ok: false, message: `unexpected argument ${JSON.stringify(rest[0])}` };
    if (jobId.length > MAX_ID_LENGTH) return { ok: false, message: `a job id is at most ${MAX_ID_LENGTH} characters` };
    return { ok: true, value: { kind: 'show', jobId, ...range } };
  }
  if (sub === 'models') {
    if (positionals.length > 0) return { ok: false, message: `unexpected argument ${JSON.stringify(positionals[0])}` };
    return { ok: true, value: { kind: 'models', ...range } };
  }
  return { ok: false, message: `unknown sub-command ${JSON.stringify(sub)}: use list, show or models` };
}

export interface JobsDeps {
  /** The store's SQL reader; undefined when the CLI reads through the query API (not served). */
  readonly store: SqlReader | undefined;
  readonly output: CommandOutput;
  readonly nowSeconds?: number;
}

/** GPU-seconds and other exact decimals from the store, at 12 places. */
const SCALE = 12;
const SECONDS_PER_HOUR = 3600n;

/** One job's (or one epoch's) sums. */
interface Sums {
  cost: bigint;
  gpuSeconds: bigint;
  samples: bigint;
  spans: bigint;
  firstStart: bigint;
  lastEnd: bigint;
}

function emptySums(): Sums {
  return { cost: 0n, gpuSeconds: 0n, samples: 0n, spans: 0n, firstStart: -1n, lastEnd: 0n };
}

function add(into: Sums, row: Record<string, string>): void {
  into.cost += pico(row.cost ?? '0');
  into.gpuSeconds += parseScaled(row.gpu_seconds ?? '0', SCALE);
  into.samples += BigInt(row.samples ?? '0');
  into.spans += BigInt(row.spans ?? '0');
  const start = BigInt(row.first_start ?? '0');
  if (into.firstStart < 0n || start < into.firstStart) into.firstStart = start;
  const end = BigInt(row.last_end ?? '0');
  if (end > into.lastEnd) into.lastEnd = end;
}

/** GPU-hours to 6 places (half to even). */
function gpuHours(gpuSeconds: bigint): string {
  return formatScaled(divideRoundHalfEven(gpuSeconds, SECONDS_PER_HOUR * 10n ** 6n), 6);
}

/** Cost per GPU-hour: cost × 3600 ÷ GPU-seconds. */
function perGpuHour(cost: bigint, gpuSeconds: bigint): string | null {
  const value = ratio(cost * SECONDS_PER_HOUR, gpuSeconds, 10n ** BigInt(SCALE));
  return value === null ? null : usd(value);
}

function iso(nanos: bigint): string | null {
  return nanos <= 0n ? null : new Date(Number(nanos / 1_000_000n)).toISOString();
}

function optionalUsd(value: bigint | null): string | null {
  return value === null ? null : usd(value);
}

interface Estimate {
  readonly recordedAt: number;
  readonly kind: string;
  readonly total: bigint;
  readonly currency: string;
  readonly gpuHours: string;
  readonly epochs: bigint;
  readonly samples: bigint;
  readonly description: string;
}

async function estimatesOf(store: SqlReader, jobIds: readonly string[]): Promise<Map<string, Estimate[]>> {
  const out = new Map<string, Estimate[]>();
  for (let i = 0; i < jobIds.length; i += MAX_JOB_FILTER_VALUES) {
    const rows = await store.select<Record<string, string>>(
      jobEstimatesSql(store.database, jobIds.slice(i, i + MAX_JOB_FILTER_VALUES), store.literal),
    );
    for (const r of rows) {
      const id = r.job_id ?? '';
      const list = out.get(id) ?? [];
      list.push({
        recordedAt: Number(r.recorded_at ?? '0'),
        kind: r.job_kind ?? '',
        total: pico(r.total ?? '0'),
        currency: r.currency ?? 'USD',
        gpuHours: formatScaled(parseScaled(r.gpu_hours ?? '0', SCALE), 6),
        epochs: BigInt(r.epochs ?? '0'),
        samples: BigInt(r.samples ?? '0'),
        description: r.description ?? '',
      });
      out.set(id, list);
    }
  }
  return out;
}

interface JobLine {
  readonly jobId: string;
  readonly currency: string;
  kind: string;
  model: string;
  readonly sums: Sums;
  readonly epochs: Set<string>;
  readonly byEpoch: Map<number, Sums>;
}

async function jobLines(store: SqlReader, range: JobRange): Promise<JobLine[] | string> {
  const rows = await store.select<Record<string, string>>(
    jobEpochsSql(store.database, range, MAX_QUERY_LIMIT, store.literal),
  );
  if (rows.length >= MAX_QUERY_LIMIT)
    return `more than ${MAX_QUERY_LIMIT} job epochs in the period: narrow with --since, --kind or --job`;
  const jobs = new Map<string, JobLine>();
  for (const r of rows) {
    const jobId = r.job_id ?? '';
    const currency = r.currency ?? 'USD';
    const key = `${jobId}\u0000${currency}`;
    let job = jobs.get(key);
    if (job === undefined) {
      job = { jobId, currency, kind: '', model: '', sums: emptySums(), epochs: new Set(), byEpoch: new Map() };
      jobs.set(key, job);
    }
    if ((r.kind ?? '') > job.kind) job.kind = r.kind ?? '';
    if ((r.job_model ?? '') > job.model) job.model = r.job_model ?? '';
    add(job.sums, r);
    const epoch = Number(r.epoch ?? '-1');
    if (epoch >= 0) job.epochs.add(String(epoch));
    const epochSums = job.byEpoch.get(epoch) ?? emptySums();
    add(epochSums, r);
    job.byEpoch.set(epoch, epochSums);
  }
  return [...jobs.values()];
}

function fail(output: CommandOutput, message: string): number {
  output.err(`costtrace jobs: ${message}\n`);
  return 1;
}

async function list(a: Extract<JobsArgs, { kind: 'list' }>, store: SqlReader, output: CommandOutput): Promise<number> {
  const lines = await jobLines(store, a);
  if (typeof lines === 'string') return fail(output, lines);
  lines.sort((x, y) =>
    x.sums.cost === y.sums.cost ? x.jobId.localeCompare(y.jobId) : x.sums.cost > y.sums.cost ? -1 : 1,
  );
  const shown = lines.slice(0, a.limit);
  const estimates =
    shown.length === 0
      ? new Map<string, Estimate[]>()
      : await estimatesOf(
          store,
          shown.map((j) => j.jobId),
        );
  const columns = [
    'job_id',
    'kind',
    'model',
    'currency',
    'cost',
    'gpu_hours',
    'epochs',
    'samples',
    'per_epoch',
    'per_sample',
    'per_gpu_hour',
    'estimate',
    'actual_minus_estimate',
    'actual_vs_estimate_pct',
    'first_start',
    'last_end',
  ];
  const body: Cell[][] = shown.map((j) => {
    const latest = estimates
      .get(j.jobId)
      ?.filter((e) => e.currency === j.currency)
      .at(-1);
    const epochs = BigInt(j.epochs.size);
    return [
      j.jobId,
      j.kind,
      j.model,
      j.currency,
      usd(j.sums.cost),
      gpuHours(j.sums.gpuSeconds),
      j.epochs.size,
      j.sums.samples.toString(),
      optionalUsd(ratio(j.sums.cost, epochs)),
      optionalUsd(ratio(j.sums.cost, j.sums.samples)),
      perGpuHour(j.sums.cost, j.sums.gpuSeconds),
      latest === undefined ? null : usd(latest.total),
      latest === undefined ? null : usd(j.sums.cost - latest.total),
      latest === undefined ? null : percentOf(j.sums.cost - latest.total, latest.total),
      iso(j.sums.firstStart),
      iso(j.sums.lastEnd),
    ];
  });
  output.out(renderRows(a.format, columns, body));
  if (a.format === 'table' && lines.length > shown.length)
    output.out(`(${lines.length - shown.length} more jobs: raise --limit)\n`);
  return lines.length === 0 ? 3 : 0;
}

async function show(a: Extract<JobsArgs, { kind: 'show' }>, store: SqlReader, output: CommandOutput): Promise<number> {
  const lines = await jobLines(store, { since: a.since, until: a.until, jobIds: [a.jobId] });
  if (typeof lines === 'string') return fail(output, lines);
  const estimates = (await estimatesOf(store, [a.jobId])).get(a.jobId) ?? [];
  if (lines.length === 0 && estimates.length === 0) {
    output.err(`costtrace jobs: no spans and no estimate of job ${JSON.stringify(a.jobId)} in the period\n`);
    return 3;
  }
  const columns = [
    'epoch',
    'currency',
    'cost',
    'gpu_hours',
    'samples',
    'per_sample',
    'per_gpu_hour',
    'spans',
    'first_start',
    'last_end',
  ];
  const body: Cell[][] = [];
  for (const job of lines) {
    const epochs = [...job.byEpoch.entries()].sort(([x], [y]) => (x < 0 ? 1 : y < 0 ? -1 : x - y));
    for (const [epoch, s] of epochs) {
      body.push([
        epoch < 0 ? '(none)' : epoch,
        job.currency,
        usd(s.cost),
        gpuHours(s.gpuSeconds),
        s.samples.toString(),
        optionalUsd(ratio(s.cost, s.samples)),
        perGpuHour(s.cost, s.gpuSeconds),
        s.spans.toString(),
        iso(s.firstStart),
        iso(s.lastEnd),
      ]);
    }
    body.push([
      'TOTAL',
      job.currency,
      usd(job.sums.cost),
      gpuHours(job.sums.gpuSeconds),
      job.sums.samples.toString(),
      optionalUsd(ratio(job.sums.cost, job.sums.samples)),
      perGpuHour(job.sums.cost, job.sums.gpuSeconds),
      job.sums.spans.toString(),
      iso(job.sums.firstStart),
      iso(job.sums.lastEnd),
    ]);
  }
  const actual = (currency: string): bigint | undefined => lines.find((j) => j.currency === currency)?.sums.cost;
  const estimateRows: Cell[][] = estimates.map((e) => {
    const spent = actual(e.currency);
    return [
      new Date(e.recordedAt * 1000).toISOString(),
      e.kind,
      e.currency,
      usd(e.total),
      e.gpuHours,
      e.epochs === 0n ? null : e.epochs.toString(),
      e.samples === 0n ? null : e.samples.toString(),
      spent === undefined ? null : usd(spent - e.total),
      spent === undefined ? null : percentOf(spent - e.total, e.total),
      e.description,
    ];
  });
  const estimateColumns = [
    'recorded_at',
    'kind',
    'currency',
    'estimate',
    'gpu_hours',
    'epochs',
    'samples',
    'actual_minus_estimate',
    'actual_vs_estimate_pct',
    'description',
  ];
  if (a.format === 'json') {
    const job = lines[0];
    const parse = (text: string): unknown => JSON.parse(text);
    output.out(
      `${JSON.stringify(
        {
          job_id: a.jobId,
          kind: job?.kind ?? estimates.at(-1)?.kind ?? '',
          model: job?.model ?? '',
          epochs: parse(renderRows('json', columns, body)),
          estimates: parse(renderRows('json', estimateColumns, estimateRows)),
        },
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  const job = lines[0];
  if (a.format === 'table')
    output.out(
      `job ${a.jobId}${job?.kind ? ` (${job.kind})` : ''}${job?.model ? `, model ${job.model}` : ''}, ${
        job?.epochs.size ?? 0
      } epochs\n\n`,
    );
  output.out(renderRows(a.format, columns, body));
  if (estimateRows.length > 0) {
    if (a.format === 'table') output.out('\nestimates recorded:\n');
    output.out(renderRows(a.format, estimateColumns, estimateRows));
  }
  return 0;
}

/** Where the model summary counts spans: by their job's kind; spans in no job serve the model. */
function bucketOf(inJob: boolean, kind: string): 'training' | 'inference' | 'evaluation' | 'other' {
  if (!inJob || kind === 'batch_inference') return 'inference';
  if (TRAINING_JOB_KINDS.includes(kind)) return 'training';
  if (kind === 'evaluation') return 'evaluation';
  return 'other';
}

async function models(
  a: Extract<JobsArgs, { kind: 'models' }>,
  store: SqlReader,
  output: CommandOutput,
): Promise<number> {
  const rows = await store.select<Record<string, string>>(modelJobKindsSql(store.database, a, store.literal));
  interface ModelLine {
    readonly model: string;
    readonly currency: string;
    readonly cost: Record<ReturnType<typeof bucketOf>, bigint>;
    requests: bigint;
    trainingGpuSeconds: bigint;
  }
  const byModel = new Map<string, ModelLine>();
  for (const r of rows) {
    const model = r.model ?? '';
    const currency = r.currency ?? 'USD';
    const key = `${model}\u0000${currency}`;
    let line = byModel.get(key);
    if (line === undefined) {
      line = {
        model,
        currency,
        cost: { training: 0n, inference: 0n, evaluation: 0n, other: 0n },
        requests: 0n,
        trainingGpuSeconds: 0n,
      };
      byModel.set(key, line);
    }
    const bucket = bucketOf(r.in_job === '1', r.job_kind ?? '');
    line.cost[bucket] += pico(r.cost ?? '0');
    if (bucket === 'inference') line.requests += BigInt(r.requests ?? '0');
    if (bucket === 'training') line.trainingGpuSeconds += parseScaled(r.gpu_seconds ?? '0', SCALE);
  }
  const lines = [...byModel.values()].sort(
    (x, y) => x.model.localeCompare(y.model) || x.currency.localeCompare(y.currency),
  );
  const columns = [
    'model',
    'currency',
    'training',
    'training_gpu_hours',
    'inference',
    'evaluation',
    'other_jobs',
    'total',
    'training_pct',
    'inference_requests',
    'inference_per_1k_requests',
    'all_in_per_1k_requests',
  ];
  const body: Cell[][] = lines.map((l) => {
    const total = l.cost.training + l.cost.inference + l.cost.evaluation + l.cost.other;
    return [
      l.model,
      l.currency,
      usd(l.cost.training),
      gpuHours(l.trainingGpuSeconds),
      usd(l.cost.inference),
      usd(l.cost.evaluation),
      usd(l.cost.other),
      usd(total),
      percentOf(l.cost.training, total),
      l.requests.toString(),
      optionalUsd(ratio(l.cost.inference, l.requests, 1000n)),
      optionalUsd(ratio(total, l.requests, 1000n)),
    ];
  });
  output.out(renderRows(a.format, columns, body));
  return lines.length === 0 ? 3 : 0;
}

export async function runJobs(argv: readonly string[], deps: JobsDeps): Promise<number> {
  const args = parseJobsArgs(argv, deps.nowSeconds ?? Math.floor(Date.now() / 1000));
  if (!args.ok) return usageError('jobs', args.message, JOBS_USAGE, deps.output);
  if (deps.store === undefined)
    return fail(deps.output, 'jobs are read from the store: use --store clickhouse or --store duckdb:PATH');
  const a = args.value;
  if (a.kind === 'list') return list(a, deps.store, deps.output);
  if (a.kind === 'show') return show(a, deps.store, deps.output);
  return models(a, deps.store, deps.output);
}
