// Two aggregator processes in one consumer group against the real Kafka and ClickHouse, with
// rebalances mid-run: A consumes alone, B joins (partitions move to B), A stops gracefully
// (SIGTERM: it finishes its batch, commits and leaves; its partitions move to B), spans keep
// arriving throughout. Afterwards: exactly one row per span and the exact cost sum, in span_costs
// and in the rollup. (kill -9 during batches is covered by exactly-once-crash.itest.ts.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { ClickHouseStore } from '@costtrace/store';
import type { AggregatorConfig } from '../src/index.js';
import { mixedWorkload } from './support/otlp-fixtures.js';
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
const PARTITIONS = 6;

describe('rebalance mid-run: one aggregator joins, one stops gracefully', () => {
  const services = liveServices();
  const names = uniqueNames('rebalance');
  const kafka = testKafka(services.kafkaBrokers);
  const admin = kafka.admin();
  const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  const children = new Set<ChildProcess>();
  const config: Partial<AggregatorConfig> = {
    kafkaBrokers: services.kafkaBrokers,
    clickhouseUrl: services.clickhouseUrl,
    clickhouseDatabase: names.database,
    spansTopic: names.topic,
    deadLetterTopic: names.dlqTopic,
    consumerGroupId: names.groupId,
    sessionTimeoutMs: 6_000,
    rebalanceTimeoutMs: 6_000,
    clickhouseTimeoutMs: 3_000,
    // Small fetches and inserts: many batches, so a rebalance lands between and during them.
    maxBytesPerPartition: 16 * 1024,
    maxBatchRows: 20,
    retentionIntervalSeconds: 0,
    logLevel: 'error',
  };

  before(async () => {
    await createTopics(kafka, [names.topic, names.dlqTopic], PARTITIONS);
    await admin.connect();
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await admin.disconnect();
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic]);
  });

  function spawnAggregator(name: string): {
    child: ChildProcess;
    exited: Promise<number | null>;
    started: Promise<void>;
  } {
    const child = spawn(process.execPath, [CHILD], {
      env: { ...process.env, CRASH_CONFIG: JSON.stringify(config), CRASH_STAGE: 'none' },
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
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => {
        children.delete(child);
        if (code !== 0) console.log(`${name} exited with ${code}: ${stderr.slice(-2000)}`);
        resolve(code);
      });
    });
    return { child, exited, started };
  }

  async function storedRows(): Promise<number> {
    const rows = await store
      .select<{ n: number }>(`SELECT count() AS n FROM ${names.database}.span_costs`)
      .catch(() => [{ n: 0 }]);
    return Number(rows[0]?.n ?? 0);
  }

  async function members(): Promise<number> {
    const { groups } = await admin.describeGroups([names.groupId]);
    const group = groups[0];
    return group?.state === 'Stable' ? group.members.length : -1;
  }

  it('stores every span exactly once with the exact total', { timeout: 240_000 }, async () => {
    const producer = exactProducer(kafka);
    await producer.connect();
    const workload = { spans: 0, expectedPicos: 0n };
    let wave = 0;
    const produceWave = async (): Promise<void> => {
      const { requests, expectedPicos, spans } = mixedWorkload(4, 10, 7_000 + wave++);
      await producer.send({
        topic: names.topic,
        acks: -1,
        messages: requests.map((r, i) => ({
          key: `k${(wave * 5 + i) % 17}`,
          value: Buffer.from(ExportTraceServiceRequest.encode(r).finish()),
        })),
      });
      workload.spans += spans;
      workload.expectedPicos += expectedPicos;
    };
    // A backlog before anyone consumes, then a steady stream during the whole run.
    for (let i = 0; i < 10; i++) await produceWave();
    let producing = true;
    const feeding = (async () => {
      while (producing) {
        await produceWave();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();

    const a = spawnAggregator('A');
    await a.started;
    await waitFor('A stores rows', storedRows, (n) => n > 0);
    await waitFor('A alone in the group', members, (n) => n === 1);

    const b = spawnAggregator('B');
    await b.started;
    await waitFor('the group rebalanced to A and B', members, (n) => n === 2, 90_000);
    const beforeStop = await storedRows();
    await waitFor('A and B store rows together', storedRows, (n) => n > beforeStop);

    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, 'A shuts down gracefully');
    await waitFor('the group rebalanced to B alone', members, (n) => n === 1, 90_000);
    const afterStop = await storedRows();
    await waitFor('B stores rows alone', storedRows, (n) => n > afterStop);

    producing = false;
    await feeding;
    await producer.disconnect();
    await waitFor(`${workload.spans} rows`, storedRows, (n) => n >= workload.spans, 120_000);
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0, 'B shuts down gracefully');

    const [stats] = await store.select<{ rows: number; spans: number; total: string }>(
      `SELECT count() AS rows, uniqExact(trace_id, span_id) AS spans, toString(sum(cost_total)) AS total FROM ${names.database}.span_costs`,
    );
    assert.ok(workload.spans > 500, `a real workload (${workload.spans} spans)`);
    if (Number(stats!.rows) !== workload.spans) {
      // What a failure looks like: spans stored twice, and from which messages.
      const twice = await store.select<Record<string, unknown>>(
        `SELECT trace_id, span_id, groupArray(kafka_partition) AS partitions, groupArray(kafka_offset) AS offsets ` +
          `FROM ${names.database}.span_costs GROUP BY trace_id, span_id HAVING count() > 1 LIMIT 5`,
      );
      console.log(`spans stored more than once: ${JSON.stringify(twice)}`);
    }
    assert.equal(Number(stats!.rows), workload.spans, 'exactly one row per span (nothing duplicated)');
    assert.equal(Number(stats!.spans), workload.spans, 'every span present (nothing lost)');
    assert.equal(decimalToPicos(stats!.total), workload.expectedPicos, 'exact sum');
    const [rollup] = await store.select<{ spans: number; total: string }>(
      `SELECT sum(spans) AS spans, toString(sum(cost_total)) AS total FROM ${names.database}.span_costs_1m`,
    );
    assert.equal(Number(rollup!.spans), workload.spans, 'the rollup counts each span once');
    assert.equal(decimalToPicos(rollup!.total), workload.expectedPicos, 'the rollup holds the exact sum');
  });
});
