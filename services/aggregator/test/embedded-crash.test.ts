// Exactly-once in embedded mode (in-process bus + DuckDB, what `costtrace dev` runs): the process
// is killed -9 at every stage of a batch, a DuckDB transaction in flight included, and started
// again on the same files. Afterwards the store holds one row per span with the exact sum, and
// the rollup (written in the insert's transaction) equals the spans in every minute.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { MONEY_SCALE, parseScaled } from '@costtrace/core';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { DuckDbStore } from '@costtrace/store';
import { InProcessBus, loadConfig } from '../src/index.js';
import { mixedWorkload } from './support/otlp-fixtures.js';

const CHILD = fileURLToPath(new URL('./support/embedded-crashing-consumer.js', import.meta.url));
const STAGES = ['batch-received', 'before-insert', 'insert-started', 'after-insert', 'after-commit'] as const;

function runChild(dir: string, env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, EMBEDDED_DIR: dir, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A child that finds no more work at its stage would wait forever: bounded from outside.
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve(
        `${signal ?? code} ${stderr.match(/CRASH (\S+)/)?.[1] ?? ''} ${code === 0 || signal ? '' : stderr.slice(-1500)}`.trim(),
      );
    }),
  );
}

describe('embedded mode: exactly-once when the process is killed -9', () => {
  let dir = '';
  const workload = mixedWorkload(90, 6, 2026, 40 * 3600);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-embedded-crash-'));
    const bus = new InProcessBus({ dataDir: join(dir, 'bus'), logger: pino({ level: 'silent' }) });
    bus.produce(
      loadConfig({}, {}).spansTopic,
      workload.requests.map((r, i) => ({
        key: `k${i % 4}`,
        value: Buffer.from(ExportTraceServiceRequest.encode(r).finish()),
      })),
    );
    bus.close();
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores every span once, with the exact sum and the rollup equal to the spans', { timeout: 240_000 }, async () => {
    const outcomes: string[] = [];
    for (const [i, stage] of [...STAGES, ...STAGES].entries()) {
      outcomes.push(
        await runChild(dir, {
          CRASH_STAGE: stage,
          CRASH_AT: String(1 + (i % 2)),
          CRASH_DELAY_MS: stage === 'insert-started' ? String(i % 3) : '0',
        }),
      );
    }
    for (const stage of STAGES) {
      assert.ok(outcomes.includes(`SIGKILL ${stage}`), `killed at ${stage}: ${JSON.stringify(outcomes)}`);
    }
    assert.equal(await runChild(dir, { CRASH_STAGE: 'none', EXPECTED_SPANS: String(workload.spans) }), '0');

    const store = new DuckDbStore({ path: join(dir, 'costtrace.duckdb'), readOnly: true });
    try {
      const [stats] = await store.select<{ rows: string; uniq: string; total: string; days: string }>(
        `SELECT count(*)::VARCHAR AS rows, count(DISTINCT (trace_id, span_id))::VARCHAR AS uniq, ` +
          `sum(cost_total)::VARCHAR AS total, count(DISTINCT start_time // 86400)::VARCHAR AS days FROM span_costs`,
      );
      assert.equal(Number(stats!.rows), workload.spans, 'exactly one row per span');
      assert.equal(Number(stats!.uniq), workload.spans, 'every span present');
      assert.ok(Number(stats!.days) >= 2, 'the spans cover several days');
      assert.equal(parseScaled(stats!.total, MONEY_SCALE), workload.expectedPicos, 'exact sum');
      const [rollup] = await store.select<{ spans: string; total: string }>(
        'SELECT sum(spans)::VARCHAR AS spans, sum(cost_total)::VARCHAR AS total FROM span_costs_1m',
      );
      assert.equal(Number(rollup!.spans), workload.spans, 'the rollup counts each span once');
      assert.equal(parseScaled(rollup!.total, MONEY_SCALE), workload.expectedPicos, 'the rollup holds the exact sum');
      assert.deepEqual(await store.rollupDifferences(), [], 'every minute of the rollup equals its spans');
    } finally {
      await store.close();
    }
  });
});
