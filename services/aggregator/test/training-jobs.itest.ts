// A training job without costtrace's SDK: the Python loop of docs/jobs.md (the plain
// OpenTelemetry Python SDK, scripts/python-otel/training-loop.py) sends one span per epoch over
// OTLP/HTTP to the aggregator, which prices the GPU time and files each span under the job from
// the resource; real Kafka and ClickHouse carry and store them, and `costtrace jobs` reads them
// back. Expected money is the bundled reference rate × the GPU-seconds the loop reported,
// computed here with bigint arithmetic that shares no code with the pricer.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bundledPriceSnapshot } from '@costtrace/core';
import { run } from '@costtrace/cli';
import { ClickHouseStore } from '@costtrace/store';
import type { Harness } from './support/aggregator-harness.js';
import { startAggregator } from './support/aggregator-harness.js';
import {
  createTopics,
  decimalToPicos,
  deleteTopics,
  liveServices,
  testKafka,
  uniqueNames,
  waitFor,
} from './support/live-services.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Half-to-even rounding of num / den (den > 0), written out here. */
function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const r = num % den;
  return 2n * r > den || (2n * r === den && q % 2n === 1n) ? q + 1n : q;
}

interface StoredRow {
  span_name: string;
  job_id: string;
  job_kind: string;
  job_epoch: string;
  job_samples: string;
  model: string;
  gpu_seconds: string;
  cost: string;
  reason: string;
}

interface Reported {
  epochs: { epoch: number; gpu_seconds: number; samples: number }[];
}

describe(
  'a Python training loop with the plain OpenTelemetry SDK is priced per job and epoch',
  { timeout: 240_000 },
  () => {
    const services = liveServices();
    const names = uniqueNames('jobs');
    const kafka = testKafka(services.kafkaBrokers);
    const jobId = `ft-${names.groupId.slice(-12)}`;
    let python = '';
    let harness: Harness | undefined;
    let store: ClickHouseStore;

    before(async () => {
      const install = spawnSync('bash', [join(ROOT, 'scripts/python-otel/install.sh')], {
        encoding: 'utf8',
        timeout: 600_000,
      });
      assert.equal(install.status, 0, `scripts/python-otel/install.sh failed:\n${install.stderr}`);
      python = install.stdout.trim();
      await createTopics(kafka, [names.topic, names.dlqTopic]);
      harness = await startAggregator(names);
      store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
    });

    after(async () => {
      await harness?.aggregator.stop();
      await store?.command(`DROP DATABASE IF EXISTS ${names.database}`);
      await store?.close();
      await deleteTopics(kafka, [names.topic, names.dlqTopic]).catch(() => undefined);
    });

    it('stores each epoch under the job with its GPU cost, and costtrace jobs reads it back', async () => {
      const endpoint = `http://127.0.0.1:${harness!.addresses.http!.port}/v1/traces`;
      const child = spawn(python, [join(ROOT, 'scripts/python-otel/training-loop.py'), endpoint, jobId, '3', '40000'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TRAIN_SIMULATED_EPOCH_SECONDS: '1234.567' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(status, 0, `training-loop.py failed:\n${stderr}`);
      const reported = JSON.parse(stdout) as Reported;
      assert.equal(reported.epochs.length, 3);

      const rows = await waitFor(
        `4 rows in ${names.database}.span_costs`,
        () =>
          store.select<StoredRow>(
            `SELECT span_name, job_id, job_kind, toString(job_epoch) AS job_epoch, toString(job_samples) AS job_samples,
                  model, toString(gpu_seconds) AS gpu_seconds, toString(cost_total) AS cost, unpriced_reason AS reason
           FROM ${names.database}.span_costs ORDER BY span_name, job_epoch`,
          ),
        (r) => r.length >= 4,
      );
      // The bundled per-GPU-hour reference rate of the GPU the loop names (catalog data, not the pricer).
      const rate = bundledPriceSnapshot().prices.find(
        (p) => p.provider === 'reference' && p.sku === 'h100-80gb' && p.unit === 'gpu_hour',
      );
      assert.ok(rate, 'a reference rate for h100-80gb');
      const perHour = rate.amount.subunits;
      const expected = reported.epochs.map((e) => {
        // GPU-seconds as the loop reported them, in nanoseconds, at the hourly rate, rounded once.
        const nanos = decimalToPicos(String(e.gpu_seconds)) / 1000n;
        return roundHalfEven(perHour * nanos, 3_600n * 1_000_000_000n);
      });
      assert.ok(
        expected.every((c) => c > 10n ** 12n),
        'dollars per epoch',
      );
      assert.deepEqual(
        rows.map((r) => [
          r.span_name,
          r.job_id,
          r.job_kind,
          r.model,
          r.job_epoch,
          r.job_samples,
          decimalToPicos(r.cost),
          r.reason,
        ]),
        [
          ['epoch', jobId, 'fine_tuning', 'support-bot-v3', '0', '40000', expected[0], ''],
          ['epoch', jobId, 'fine_tuning', 'support-bot-v3', '1', '40000', expected[1], ''],
          ['epoch', jobId, 'fine_tuning', 'support-bot-v3', '2', '40000', expected[2], ''],
          // The job span: in the job, in no epoch, with no usage of its own.
          ['fine-tune', jobId, 'fine_tuning', 'support-bot-v3', '-1', '0', 0n, ''],
        ],
      );

      // What the rollup says per job equals the spans.
      const [rolled] = await store.select<{ total: string; spans: string }>(
        `SELECT toString(sum(cost_total)) AS total, toString(sum(spans)) AS spans FROM ${names.database}.span_costs_1m
       WHERE job_id = '${jobId}' AND job_kind = 'fine_tuning'`,
      );
      const total = expected.reduce((a, b) => a + b, 0n);
      assert.equal(decimalToPicos(rolled!.total), total);
      assert.equal(rolled!.spans, '4');

      let out = '';
      let err = '';
      const code = await run(['jobs', 'show', jobId, '--format', 'json', '--store', 'clickhouse'], {
        out: (t) => void (out += t),
        err: (t) => void (err += t),
        env: { CLICKHOUSE_URL: services.clickhouseUrl, CLICKHOUSE_DATABASE: names.database },
      });
      assert.equal(code, 0, err);
      const shown = JSON.parse(out) as {
        kind: string;
        model: string;
        epochs: { epoch: number | string; cost: string; samples: string }[];
      };
      assert.equal(shown.kind, 'fine_tuning');
      assert.equal(shown.model, 'support-bot-v3');
      assert.deepEqual(
        shown.epochs.map((e) => [e.epoch, decimalToPicos(e.cost), e.samples]),
        [
          [0, expected[0], '40000'],
          [1, expected[1], '40000'],
          [2, expected[2], '40000'],
          ['(none)', 0n, '0'],
          ['TOTAL', total, '120000'],
        ],
      );
    });
  },
);
