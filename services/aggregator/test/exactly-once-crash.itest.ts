// Exactly-once storage under crashes: consumer processes are SIGKILLed at every stage of a
// batch (batch received, before the insert, while the insert request is in flight, after the
// insert but before the offset commit, after the commit), two of them at a time in one
// consumer group so that partitions also move between members (rebalances). Afterwards there
// must be exactly one row per span and the exact expected sum, to the last decimal.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { ClickHouseStore } from '@costtrace/store';
import type { AggregatorConfig } from '../src/index.js';
import { mixedWorkload, seededRandom } from './support/otlp-fixtures.js';
import {
  createTopics,
  decimalToPicos,
  deleteTopics,
  exactProducer,
  liveServices,
  testKafka,
  uniqueNames,
  waitFor,
} from './support/live-services.js';

const CHILD = fileURLToPath(new URL('./support/crashing-consumer.js', import.meta.url));
const STAGES = ['batch-received', 'before-insert', 'insert-started', 'after-insert', 'after-commit'] as const;
/** Time spent killing consumers; the final clean consumer then drains the rest. */
const CRASH_PHASE_MS = Number(process.env.COSTTRACE_CRASH_PHASE_MS ?? 100_000);
const SEED = Number(process.env.COSTTRACE_CRASH_SEED ?? Date.now() % 100_000);

describe('exactly-once storage when consumers are killed -9', () => {
  const services = liveServices();
  const names = uniqueNames('crash');
  const kafka = testKafka(services.kafkaBrokers);
  const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  const children = new Set<ChildProcess>();
  const config: Partial<AggregatorConfig> = {
    kafkaBrokers: services.kafkaBrokers,
    clickhouseUrl: services.clickhouseUrl,
    clickhouseDatabase: names.database,
    spansTopic: names.topic,
    deadLetterTopic: names.dlqTopic,
    consumerGroupId: names.groupId,
    // Short sessions so a killed member is replaced quickly; small fetches and inserts so that
    // one batch spans several inserts ("mid batch" kills between them).
    sessionTimeoutMs: 6_000,
    rebalanceTimeoutMs: 6_000,
    clickhouseTimeoutMs: 3_000,
    maxBytesPerPartition: 24 * 1024,
    maxBatchRows: 25,
    retentionIntervalSeconds: 0,
    logLevel: 'error',
  };

  before(async () => {
    await createTopics(kafka, [names.topic, names.dlqTopic]);
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic]);
  });

  function spawnConsumer(
    stage: string,
    at: number,
    delayMs: number,
  ): { child: ChildProcess; exited: Promise<string>; started: Promise<void> } {
    const child = spawn(process.execPath, [CHILD], {
      env: {
        ...process.env,
        CRASH_CONFIG: JSON.stringify(config),
        CRASH_STAGE: stage,
        CRASH_AT: String(at),
        CRASH_DELAY_MS: String(delayMs),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.add(child);
    let stderr = '';
    let markStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('STARTED')) markStarted();
    });
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => {
        children.delete(child);
        if (signal === null && code !== 0) console.log(`consumer exited with ${code}: ${stderr.slice(-2000)}`);
        resolve(`${signal ?? code} ${stderr.match(/CRASH (\S+)/)?.[1] ?? ''}`.trim());
      });
    });
    return { child, exited, started };
  }

  it('stores every span exactly once with the exact total', { timeout: 300_000 }, async () => {
    // Spans keep arriving during the whole crash phase, so every new consumer finds work.
    const producer = exactProducer(kafka);
    await producer.connect();
    const workload = { spans: 0, expectedPicos: 0n };
    let wave = 0;
    const produceWave = async (): Promise<void> => {
      const { requests, expectedPicos, spans } = mixedWorkload(4, 10, SEED * 1000 + wave++);
      await producer.send({
        topic: names.topic,
        acks: -1,
        messages: requests.map((r, i) => ({
          key: `k${(wave + i) % 7}`,
          value: Buffer.from(ExportTraceServiceRequest.encode(r).finish()),
        })),
      });
      workload.spans += spans;
      workload.expectedPicos += expectedPicos;
    };
    let producing = true;
    const feeding = (async () => {
      while (producing) {
        await produceWave();
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();

    const random = seededRandom(SEED);
    const kills = new Map<string, number>();
    const deadline = Date.now() + CRASH_PHASE_MS;
    let round = 0;
    const running = new Set<Promise<void>>();
    const launch = (): void => {
      const stage = STAGES[round++ % STAGES.length]!;
      const at = 1 + Math.floor(random() * 2);
      const delay = stage === 'insert-started' ? Math.floor(random() * 15) : 0;
      const { child, exited } = spawnConsumer(stage, at, delay);
      // A consumer left without work (or partitions) would idle: kill it from outside too.
      const outside = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const done = exited.then((how) => {
        clearTimeout(outside);
        const key = how.startsWith('SIGKILL') ? (how.split(' ')[1] ?? 'external') || 'external' : `exit:${how}`;
        kills.set(key, (kills.get(key) ?? 0) + 1);
        running.delete(done);
      });
      running.add(done);
    };
    launch();
    launch();
    const enough = (): boolean => STAGES.every((stage) => (kills.get(stage) ?? 0) >= 3);
    while (Date.now() < deadline && !enough()) {
      await Promise.race(running);
      while (running.size < 2 && Date.now() < deadline && !enough()) launch();
    }
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(running);
    producing = false;
    await feeding;
    await producer.disconnect();

    const killed = [...kills].filter(([k]) => !k.startsWith('exit:'));
    const total = killed.reduce((n, [, v]) => n + v, 0);
    console.log(
      `seed ${SEED}: ${workload.spans} spans, ${total} consumers killed -9 by stage: ${JSON.stringify(Object.fromEntries(kills))}`,
    );

    const finisher = spawnConsumer('none', 1, 0);
    await finisher.started;
    await waitFor(
      `${workload.spans} rows`,
      () => store.select<{ n: number }>(`SELECT count() AS n FROM ${names.database}.span_costs`),
      (rows) => Number(rows[0]?.n) >= workload.spans,
      120_000,
    );
    finisher.child.kill('SIGTERM');
    assert.equal(await finisher.exited, '0', 'the clean consumer shuts down gracefully');
    assert.ok(total >= 10, `at least 10 kills happened (got ${total})`);
    assert.ok(workload.spans > 1000, `a real workload (${workload.spans} spans)`);
    for (const stage of STAGES) assert.ok((kills.get(stage) ?? 0) > 0, `a consumer was killed at ${stage}`);

    const [stats] = await store.select<{ rows: number; spans: number; total: string }>(
      `SELECT count() AS rows, uniqExact(trace_id, span_id) AS spans, toString(sum(cost_total)) AS total FROM ${names.database}.span_costs`,
    );
    assert.equal(Number(stats!.rows), workload.spans, 'exactly one row per span');
    assert.equal(Number(stats!.spans), workload.spans, 'every span present');
    assert.equal(decimalToPicos(stats!.total), workload.expectedPicos, 'exact sum');
    const [rollup] = await store.select<{ spans: number; total: string }>(
      `SELECT sum(spans) AS spans, toString(sum(cost_total)) AS total FROM ${names.database}.span_costs_1m`,
    );
    assert.equal(Number(rollup!.spans), workload.spans, 'the rollup counts each span once');
    assert.equal(decimalToPicos(rollup!.total), workload.expectedPicos, 'the rollup holds the exact sum');
  });
});
