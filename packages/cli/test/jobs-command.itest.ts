// `costtrace jobs` end to end through `--store`, on the real ClickHouse and on a DuckDB file, with
// the same span rows and recorded estimates: the list, one job's epochs and the model summary.
// Expected figures are computed here on bigint pico-dollars, independently of the command.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bundledCatalogDir, readCatalogs } from '@costtrace/catalog';
import { Money } from '@costtrace/core';
import { ClickHouseStore, DuckDbStore } from '@costtrace/store';
import type { JobEstimateRecord, SpanCostRow } from '@costtrace/store';
import { run } from '../src/index.js';

const SCALE = 10n ** 12n;
const NOW = 1_796_000_000;
const START = BigInt(NOW - 86_400) * 1_000_000_000n;

/** Half-to-even division, written out here. */
function div(n: bigint, d: bigint): bigint {
  if (n < 0n) return -div(-n, d);
  const q = n / d;
  const r = n % d;
  return 2n * r > d || (2n * r === d && q % 2n === 1n) ? q + 1n : q;
}
/** Decimal text → units of 10^-scale. */
function scaled(text: string, scale = 12): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = text.replace(/^-/, '').split('.');
  const v = BigInt(whole + fraction.padEnd(scale, '0'));
  return negative ? -v : v;
}

interface Seed {
  readonly cost: string;
  readonly gpuSeconds?: string;
  readonly jobId?: string;
  readonly jobKind?: string;
  readonly epoch?: number;
  readonly samples?: number;
  readonly model: string;
  readonly request?: boolean;
}

const SEEDS: readonly Seed[] = [
  // ft-1: a fine-tune of support-bot-v3 over two epochs, plus a setup span in no epoch.
  {
    jobId: 'ft-1',
    jobKind: 'fine_tuning',
    epoch: 0,
    samples: 1_000,
    cost: '10.123456789012',
    gpuSeconds: '3600.5',
    model: 'support-bot-v3',
  },
  {
    jobId: 'ft-1',
    jobKind: 'fine_tuning',
    epoch: 0,
    samples: 500,
    cost: '5.000000000001',
    gpuSeconds: '1799.5',
    model: 'support-bot-v3',
  },
  {
    jobId: 'ft-1',
    jobKind: 'fine_tuning',
    epoch: 1,
    samples: 1_500,
    cost: '20.5',
    gpuSeconds: '7200',
    model: 'support-bot-v3',
  },
  { jobId: 'ft-1', jobKind: '', cost: '0.25', model: 'support-bot-v3' },
  // ev-2: an evaluation of the same model.
  { jobId: 'ev-2', jobKind: 'evaluation', cost: '1.5', gpuSeconds: '600', model: 'support-bot-v3' },
  // bi-3: a batch inference job on it, and live traffic (no job).
  { jobId: 'bi-3', jobKind: 'batch_inference', cost: '2', model: 'support-bot-v3' },
  { cost: '0.3', model: 'support-bot-v3', request: true },
  { cost: '0.3', model: 'support-bot-v3', request: true },
  { cost: '0.300000000007', model: 'support-bot-v3', request: true },
  { cost: '4.75', model: 'gpt-4o', request: true },
];

function rowOf(seed: Seed, i: number): SpanCostRow {
  const zero = Money.zero('USD');
  const start = START + BigInt(i) * 60_000_000_000n;
  return {
    startTimeUnixNano: start,
    endTimeUnixNano: start + 30_000_000_000n,
    traceId: (BigInt(i + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(32, '0').slice(-32),
    spanId: (BigInt(i + 1) * 0x2545f4914f6cdd1dn).toString(16).padStart(16, '0').slice(-16),
    parentSpanId: seed.request === true ? '' : 'b7ad6b7169203331',
    spanName: seed.jobId === undefined ? 'chat' : 'epoch',
    spanKind: seed.request === true ? 2 : 1,
    statusCode: 0,
    isRequest: seed.request === true,
    service: seed.jobId === undefined ? 'gateway' : 'trainer',
    environment: 'prod',
    route: '',
    commit: '',
    model: seed.model,
    provider: '',
    team: 'ml',
    tenant: '',
    feature: '',
    jobId: seed.jobId ?? '',
    jobKind: seed.jobKind ?? '',
    jobEpoch: seed.epoch ?? -1,
    jobSamples: seed.samples ?? 0,
    inputTokens: 0n,
    outputTokens: 0n,
    cacheReadTokens: 0n,
    cacheWriteTokens: 0n,
    reasoningTokens: 0n,
    gpuType: seed.gpuSeconds === undefined ? '' : 'h100-80gb',
    gpuCount: seed.gpuSeconds === undefined ? 0 : 8,
    gpuSeconds: seed.gpuSeconds ?? '0',
    instanceType: '',
    costInput: zero,
    costOutput: zero,
    costCacheRead: zero,
    costCacheWrite: zero,
    costReasoning: zero,
    costGpu: Money.parse(seed.cost, 'USD'),
    costCompute: zero,
    costTotal: Money.parse(seed.cost, 'USD'),
    currency: 'USD',
    pricingVersion: 'v1',
    pricingSource: 'bundled',
    priceIds: [],
    unpricedReason: '',
    kafkaTopic: 'jobs',
    kafkaPartition: 0,
    kafkaOffset: BigInt(i),
    kafkaSpanIndex: 0,
    attributeKeys: [],
    attributeValues: [],
    rollupOverflow: [],
    sanitized: [],
  };
}

const ESTIMATES: readonly JobEstimateRecord[] = [
  {
    jobId: 'ft-1',
    recordedAt: NOW - 90_000,
    jobKind: 'fine_tuning',
    total: '25',
    currency: 'USD',
    gpuHours: '3',
    epochs: 2n,
    samples: 3_000n,
    description: 'first guess',
  },
];

/** The second estimate, recorded through `costtrace estimate training --record`. */
const ESTIMATE_ARGV = [
  'estimate',
  'training',
  '--gpu',
  'h100-80gb',
  '--count',
  '8',
  '--hours',
  '0.4375',
  '--epochs',
  '2',
  '--samples',
  '1500',
  '--job',
  'ft-1',
  '--job-kind',
  'fine_tuning',
  '--record',
  '--format',
  'json',
];

// What it must cost: the catalog's reference rate for the GPU (the catalogs the offline backend
// reads) × 8 GPUs × 0.4375 h = 3.5 GPU-hours.
const catalogs = await readCatalogs(bundledCatalogDir());
// The rate in effect now: the latest on-demand version already effective.
const reference = catalogs.prices
  .filter(
    (p) =>
      p.provider === 'reference' &&
      p.sku === 'h100-80gb' &&
      p.unit === 'gpu_hour' &&
      p.pricingModel === 'on_demand' &&
      p.effectiveFrom <= Date.now(),
  )
  .sort((a, b) => a.effectiveFrom - b.effectiveFrom)
  .at(-1);
if (reference === undefined) throw new Error('no reference rate for h100-80gb in the catalogs');
const ESTIMATE_TOTAL = (reference.amount.subunits * 35n) / 10n;

async function recordThroughCli(flag: string, env: Readonly<Record<string, string>>): Promise<void> {
  let err = '';
  let out = '';
  // One recording second for both stores, so their answers can be compared byte for byte.
  const code = await run([...ESTIMATE_ARGV, '--store', flag], {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    env,
    nowSeconds: NOW - 60,
  });
  assert.equal(code, 0, err);
  const figures = JSON.parse(out) as { figures: { metric: string; value: string }[] };
  const total = figures.figures.find((f) => f.metric === 'total')!.value;
  assert.equal(scaled(total), ESTIMATE_TOTAL, 'the estimate at the catalog rate');
  assert.equal(figures.figures.find((f) => f.metric === 'recorded_for_job')?.value, 'ft-1');
}

interface Opened {
  readonly flag: string;
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

const BACKENDS: readonly { name: string; open(): Promise<Opened> }[] = [
  {
    name: 'clickhouse',
    open: async () => {
      const url = process.env.CLICKHOUSE_URL;
      if (!url) throw new Error('CLICKHOUSE_URL is not set: run with `npm run test:integration`');
      const database = `ct_cli_jobs_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const store = new ClickHouseStore({ url, database });
      await store.migrate();
      await store.insertSpanCosts(SEEDS.map(rowOf));
      for (const e of ESTIMATES) await store.recordJobEstimate(e);
      const env = { CLICKHOUSE_URL: url, CLICKHOUSE_DATABASE: database };
      await recordThroughCli('clickhouse', env);
      return {
        flag: 'clickhouse',
        env,
        close: async () => {
          await store.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
          await store.close();
        },
      };
    },
  },
  {
    name: 'duckdb',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'costtrace-cli-jobs-'));
      const path = join(dir, 'costtrace.duckdb');
      const store = new DuckDbStore({ path });
      try {
        await store.migrate();
        await store.insertSpanCosts(SEEDS.map(rowOf));
        for (const e of ESTIMATES) await store.recordJobEstimate(e);
      } finally {
        await store.close();
      }
      await recordThroughCli(`duckdb:${path}`, {});
      return {
        flag: `duckdb:${path}`,
        env: {},
        close: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
      };
    },
  },
];

async function cli(opened: Opened, argv: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(
    [...argv, '--since', String(NOW - 3 * 86_400), '--until', String(NOW), '--store', opened.flag],
    {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      env: opened.env,
    },
  );
  return { code, out, err };
}

const sumOf = (pick: (s: Seed) => boolean): bigint => SEEDS.filter(pick).reduce((a, s) => a + scaled(s.cost), 0n);

describe('costtrace jobs', () => {
  const outputs = new Map<string, string[]>();
  const opened: Opened[] = [];
  after(async () => {
    for (const o of opened) await o.close();
  });

  for (const backend of BACKENDS) {
    it(`lists jobs, shows one by epoch and sums models by job kind (${backend.name})`, async () => {
      const o = await backend.open();
      opened.push(o);
      const mine: string[] = [];

      const list = await cli(o, ['jobs', '--format', 'json']);
      assert.equal(list.code, 0, list.err);
      mine.push(list.out);
      const jobs = JSON.parse(list.out) as Record<string, string | number | null>[];
      assert.deepEqual(
        jobs.map((j) => j.job_id),
        ['ft-1', 'bi-3', 'ev-2'],
        'most expensive first',
      );
      const ft = jobs[0]!;
      const ftCost = sumOf((s) => s.jobId === 'ft-1');
      const ftGpuSeconds = scaled('3600.5') + scaled('1799.5') + scaled('7200');
      assert.equal(ft.kind, 'fine_tuning', 'the non-empty kind of its spans');
      assert.equal(ft.model, 'support-bot-v3');
      assert.equal(scaled(String(ft.cost)), ftCost);
      assert.equal(scaled(String(ft.gpu_hours), 6), div(ftGpuSeconds, 3600n * 10n ** 6n));
      assert.equal(ft.epochs, 2);
      assert.equal(ft.samples, '3000');
      assert.equal(scaled(String(ft.per_epoch)), div(ftCost, 2n));
      assert.equal(scaled(String(ft.per_sample)), div(ftCost, 3000n));
      assert.equal(scaled(String(ft.per_gpu_hour)), div(ftCost * 3600n * SCALE, ftGpuSeconds));
      // The latest estimate stands beside the actual.
      assert.equal(scaled(String(ft.estimate)), ESTIMATE_TOTAL);
      assert.equal(scaled(String(ft.actual_minus_estimate)), ftCost - ESTIMATE_TOTAL);
      assert.equal(
        scaled(String(ft.actual_vs_estimate_pct), 2),
        div((ftCost - ESTIMATE_TOTAL) * 10_000n, ESTIMATE_TOTAL),
      );
      const bi = jobs[1]!;
      assert.equal(bi.epochs, 0);
      assert.equal(bi.per_epoch, null);
      assert.equal(bi.per_gpu_hour, null, 'no GPU time');
      assert.equal(bi.estimate, null);

      const kinds = await cli(o, ['jobs', '--kind', 'evaluation', '--format', 'json']);
      assert.equal(kinds.code, 0, kinds.err);
      assert.deepEqual(
        (JSON.parse(kinds.out) as { job_id: string }[]).map((j) => j.job_id),
        ['ev-2'],
      );

      const show = await cli(o, ['jobs', 'show', 'ft-1', '--format', 'json']);
      assert.equal(show.code, 0, show.err);
      mine.push(show.out);
      const detail = JSON.parse(show.out) as {
        kind: string;
        epochs: Record<string, string | number | null>[];
        estimates: Record<string, string | null>[];
      };
      assert.equal(detail.kind, 'fine_tuning');
      assert.deepEqual(
        detail.epochs.map((e) => [e.epoch, scaled(String(e.cost)), e.samples]),
        [
          [0, scaled('10.123456789012') + scaled('5.000000000001'), '1500'],
          [1, scaled('20.5'), '1500'],
          ['(none)', scaled('0.25'), '0'],
          ['TOTAL', ftCost, '3000'],
        ],
      );
      assert.equal(
        scaled(String(detail.epochs[0]!.per_sample)),
        div(scaled('10.123456789012') + scaled('5.000000000001'), 1500n),
      );
      assert.deepEqual(
        detail.estimates.map((e) => [
          e.description,
          scaled(String(e.estimate)),
          scaled(String(e.actual_minus_estimate)),
        ]),
        [
          ['first guess', scaled('25'), ftCost - scaled('25')],
          ['8 × h100-80gb for 0.4375 h', ESTIMATE_TOTAL, ftCost - ESTIMATE_TOTAL],
        ],
      );

      const table = await cli(o, ['jobs', 'show', 'ft-1']);
      assert.equal(table.code, 0, table.err);
      assert.match(table.out, /^job ft-1 \(fine_tuning\), model support-bot-v3, 2 epochs/);
      assert.match(table.out, /estimates recorded:/);

      const missing = await cli(o, ['jobs', 'show', 'nope']);
      assert.equal(missing.code, 3);
      assert.match(missing.err, /no spans and no estimate of job "nope"/);

      const models = await cli(o, ['jobs', 'models', '--format', 'json']);
      assert.equal(models.code, 0, models.err);
      mine.push(models.out);
      const byModel = JSON.parse(models.out) as Record<string, string | null>[];
      assert.deepEqual(
        byModel.map((m) => m.model),
        ['gpt-4o', 'support-bot-v3'],
      );
      const bot = byModel[1]!;
      const training = sumOf((s) => s.jobKind === 'fine_tuning');
      // Live traffic (no job) and the batch inference job serve the model; ft-1's setup span, in a
      // job but of no kind, is another job's cost.
      const inference = sumOf((s) => s.model === 'support-bot-v3' && s.jobId === undefined) + scaled('2');
      const evaluation = scaled('1.5');
      const other = scaled('0.25');
      assert.equal(scaled(String(bot.other_jobs)), other);
      assert.equal(scaled(String(bot.training)), training);
      assert.equal(scaled(String(bot.inference)), inference);
      assert.equal(scaled(String(bot.evaluation)), evaluation);
      const total = training + inference + evaluation + other;
      assert.equal(scaled(String(bot.total)), total);
      assert.equal(bot.inference_requests, '3');
      assert.equal(scaled(String(bot.inference_per_1k_requests)), div(inference * 1000n, 3n));
      assert.equal(scaled(String(bot.all_in_per_1k_requests)), div(total * 1000n, 3n));
      assert.equal(scaled(String(bot.training_pct), 2), div(training * 10_000n, total));

      outputs.set(backend.name, mine);
    });
  }

  it('answers alike on ClickHouse and DuckDB, byte for byte', () => {
    const [a, b] = [outputs.get('clickhouse'), outputs.get('duckdb')];
    assert.ok(a !== undefined && b !== undefined);
    assert.deepEqual(b, a);
  });

  it('refuses the query API and arguments it does not take', async () => {
    let err = '';
    const io = { out: () => undefined, err: (t: string) => void (err += t), env: {} };
    assert.equal(await run(['jobs', '--store', 'api:http://127.0.0.1:1'], io), 1);
    assert.match(err, /jobs are read from the store/);
    err = '';
    assert.equal(await run(['jobs', 'show', '--store', 'duckdb:/nonexistent/x.duckdb'], io), 2);
    assert.match(err, /jobs show needs a job id/);
    err = '';
    assert.equal(await run(['jobs', 'list', '--where', 'team=ml'], io), 2);
    assert.match(err, /--kind and --job/);
    err = '';
    assert.equal(await run([...ESTIMATE_ARGV, '--store', 'api:http://127.0.0.1:1'], io), 2);
    assert.match(err, /read-only: use --store clickhouse or --store duckdb/);
    err = '';
    assert.equal(
      await run(
        ESTIMATE_ARGV.filter((a) => a !== '--job' && a !== 'ft-1'),
        io,
      ),
      2,
    );
    assert.match(err, /--record needs --job ID/);
    err = '';
    assert.equal(
      await run(
        ['estimate', 'crossover', '--model', 'openai/gpt-4o', '--gpu', 'l4', '--throughput', '5', '--job', 'x'],
        io,
      ),
      2,
    );
    assert.match(err, /--job, --job-kind and --record are for estimate training/);
  });
});
