// A span consumer killed -9 after ClickHouse stored a batch and before it handed the rows to
// budgets: the replacement consumer finds those messages already stored and skips the insert,
// but must still hand their rows to budgets, so the budget total equals the stored spend to the
// pico-dollar (and repeats of deltas that did reach budgets are dropped by the evaluator).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { ClickHouseStore } from '@costtrace/store';
import { Aggregator } from '../../src/index.js';
import type { AggregatorConfig } from '../../src/index.js';
import { harnessConfig } from '../support/aggregator-harness.js';
import { budgetTopics, createBudgetTopics, harnessBudgetsConfig } from '../support/budget-harness.js';
import { mixedWorkload } from '../support/otlp-fixtures.js';
import {
  createTopics,
  decimalToPicos,
  deleteTopics,
  exactProducer,
  liveServices,
  testKafka,
  uniqueNames,
  waitFor,
} from '../support/live-services.js';

const CHILD = fileURLToPath(new URL('../support/crashing-consumer.js', import.meta.url));

describe('budgets: span consumer killed between the insert and the budgets hand-off', () => {
  const services = liveServices();
  const names = uniqueNames('handoff_crash');
  const topics = budgetTopics(names.topic);
  const kafka = testKafka(services.kafkaBrokers);
  const store = new ClickHouseStore({ url: services.clickhouseUrl, database: names.database });
  let dir = '';
  let budgetsFile = '';
  let aggregator: Aggregator | undefined;
  const consumer: Partial<AggregatorConfig> = {
    kafkaBrokers: services.kafkaBrokers,
    clickhouseUrl: services.clickhouseUrl,
    clickhouseDatabase: names.database,
    spansTopic: names.topic,
    deadLetterTopic: names.dlqTopic,
    consumerGroupId: names.groupId,
    sessionTimeoutMs: 6_000,
    rebalanceTimeoutMs: 6_000,
    // Several inserts per batch: the kill comes after the first one.
    maxBatchRows: 10,
    retentionIntervalSeconds: 0,
    logLevel: 'error',
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-handoff-'));
    // One partition: the whole workload is one ordered stream, so the crash surely hits stored
    // messages the replacement must skip.
    await createTopics(kafka, [names.topic, names.dlqTopic], 1);
    await createBudgetTopics(kafka, topics);
    budgetsFile = join(dir, 'budgets.yaml');
    await writeFile(
      budgetsFile,
      `budgets:
  - { id: all-hour, window: 1h, limit_usd: "1000000", action: alert, forecast: false }
`,
    );
  });

  after(async () => {
    await aggregator?.stop();
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
    await deleteTopics(kafka, [names.topic, names.dlqTopic, topics.deltas, topics.deltasDlq, topics.throttles]);
    await rm(dir, { recursive: true, force: true });
  });

  it('counts the stored-but-not-handed-off rows for budgets after the restart', { timeout: 180_000 }, async () => {
    const { requests, expectedPicos, spans } = mixedWorkload(12, 5, 4242);
    const producer = exactProducer(kafka);
    await producer.connect();
    await producer.send({
      topic: names.topic,
      acks: -1,
      messages: requests.map((r) => ({ value: Buffer.from(ExportTraceServiceRequest.encode(r).finish()) })),
    });
    await producer.disconnect();

    // The first consumer, with budgets on, is killed right after its first insert.
    const child = spawn(process.execPath, [CHILD], {
      env: {
        ...process.env,
        CRASH_CONFIG: JSON.stringify(consumer),
        CRASH_STAGE: 'after-insert',
        CRASH_AT: '1',
        CRASH_BUDGETS: JSON.stringify({
          budgetsFile,
          topics,
          // Its own evaluator group: the dead member must not hold the replacement's partitions.
          groupId: `${names.groupId}-budgets-first`,
          instanceId: 'first',
          outboxDirectory: join(dir, 'outbox-first'),
        }),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const how = await new Promise<string>((resolve) =>
      child.once('exit', (code, signal) => resolve(`${signal ?? code} ${stderr.match(/CRASH (\S+)/)?.[1] ?? ''}`)),
    );
    assert.equal(how.trim(), 'SIGKILL after-insert', stderr.slice(-2000));
    const [stored] = await store.select<{ n: number }>(`SELECT count() AS n FROM ${names.database}.span_costs`);
    assert.ok(Number(stored?.n) > 0 && Number(stored?.n) < spans, `part of the workload stored (${stored?.n})`);

    // The replacement: same span consumer group, budgets on.
    aggregator = new Aggregator({
      config: harnessConfig(names, { ...consumer, logLevel: 'warn' }),
      ingest: false,
      budgets: harnessBudgetsConfig({
        budgetsFile,
        topics,
        groupId: `${names.groupId}-budgets`,
        instanceId: 'second',
        outboxDirectory: join(dir, 'outbox-second'),
      }),
    });
    const addresses = await aggregator.start();
    await waitFor(
      `${spans} rows`,
      () => store.select<{ n: number }>(`SELECT count() AS n FROM ${names.database}.span_costs`),
      (rows) => Number(rows[0]?.n) >= spans,
      60_000,
    );
    const [totals] = await store.select<{ rows: number; total: string }>(
      `SELECT count() AS rows, toString(sum(cost_total)) AS total FROM ${names.database}.span_costs`,
    );
    assert.equal(Number(totals?.rows), spans, 'exactly one row per span');
    assert.equal(decimalToPicos(totals!.total), expectedPicos, 'exact stored sum');

    const spend = async (): Promise<bigint> => {
      const res = await fetch(`http://127.0.0.1:${addresses.api!.port}/v1/budgets/all-hour/status`);
      if (res.status !== 200) return -1n;
      const body = (await res.json()) as { keys: { spend_usd: string }[] };
      return body.keys.reduce((sum, k) => sum + decimalToPicos(k.spend_usd), 0n);
    };
    await waitFor('the budget total to reach the stored spend', spend, (value) => value === expectedPicos, 60_000);
  });
});
