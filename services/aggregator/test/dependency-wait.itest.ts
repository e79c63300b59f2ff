// Start-up while the dependencies are down. The aggregator is started with its own ClickHouse
// server not running yet and Kafka reachable only through a loopback port nothing listens on:
// it must serve liveness, say "not ready" and what it waits for, start working once both answer,
// and store what is produced then. The real entry point (main.js) must keep running while
// ClickHouse is down and stop cleanly on SIGTERM, and still exit at once, with a message, on
// invalid configuration.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { ClickHouseStore } from '@costtrace/store';
import { Aggregator } from '../src/index.js';
import { harnessConfig } from './support/aggregator-harness.js';
import { ClickHouseProcess, freePort } from './support/clickhouse-process.js';
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
import { TcpCutProxy } from './support/tcp-cut-proxy.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));

interface Readiness {
  status: number;
  ready?: boolean;
  waitingFor?: { dependency: string; reason: string };
}

async function readiness(port: number): Promise<Readiness> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, ...((await res.json()) as Omit<Readiness, 'status'>) };
  } catch {
    return { status: 0 };
  }
}

describe('start-up while ClickHouse and Kafka are down', () => {
  const services = liveServices();
  const names = uniqueNames('deps');
  const kafka = testKafka(services.kafkaBrokers);
  const broker = new URL(`kafka://${services.kafkaBrokers[0]!}`);
  let clickhouse: ClickHouseProcess | undefined;
  const proxy = new TcpCutProxy(broker.hostname, Number(broker.port));

  before(async () => {
    clickhouse = await ClickHouseProcess.create();
    await createTopics(kafka, [names.topic, names.dlqTopic]);
  });

  after(async () => {
    await proxy.close().catch(() => undefined);
    await clickhouse?.destroy();
    await deleteTopics(kafka, [names.topic, names.dlqTopic]);
  });

  it('waits, reports not ready with the reason, then works when both answer', { timeout: 180_000 }, async () => {
    const server = clickhouse!;
    const [apiPort, kafkaPort] = [await freePort(), await freePort()];
    const aggregator = new Aggregator({
      config: harnessConfig(names, {
        clickhouseUrl: server.url,
        kafkaBrokers: [`127.0.0.1:${kafkaPort}`],
        apiPort,
        logLevel: 'silent',
      }),
      ingest: false,
    });
    const starting = aggregator.start();
    let started = false;
    void starting.then(() => (started = true)).catch(() => undefined);
    try {
      await waitFor(
        'liveness while waiting',
        () =>
          fetch(`http://127.0.0.1:${apiPort}/healthz`)
            .then((res) => res.status)
            .catch(() => 0),
        (status) => status === 200,
        30_000,
      );
      const waitingForClickHouse = await waitFor(
        'readiness to name ClickHouse',
        () => readiness(apiPort),
        (r) => r.waitingFor?.dependency === 'ClickHouse',
        30_000,
      );
      assert.equal(waitingForClickHouse.status, 503);
      assert.equal(waitingForClickHouse.ready, false);

      await server.start();
      const waitingForKafka = await waitFor(
        'readiness to name Kafka',
        () => readiness(apiPort),
        (r) => r.waitingFor?.dependency === 'Kafka',
        60_000,
      );
      assert.equal(waitingForKafka.status, 503);
      assert.equal(started, false, 'start-up still waits for Kafka');

      await proxy.listen(kafkaPort);
      await starting;
      await waitFor(
        'ready',
        () => readiness(apiPort),
        (r) => r.status === 200,
        60_000,
      );

      const { requests, expectedPicos, spans } = mixedWorkload(6, 5, 77);
      const producer = exactProducer(kafka);
      await producer.connect();
      await producer.send({
        topic: names.topic,
        acks: -1,
        messages: requests.map((r) => ({ value: Buffer.from(ExportTraceServiceRequest.encode(r).finish()) })),
      });
      await producer.disconnect();
      const store = new ClickHouseStore({ url: server.url, database: names.database });
      try {
        const [stats] = await waitFor(
          `${spans} rows`,
          () =>
            store.select<{ n: string; total: string }>(
              `SELECT count() AS n, toString(sum(cost_total)) AS total FROM ${names.database}.span_costs`,
            ),
          (rows) => Number(rows[0]?.n) >= spans,
          60_000,
        );
        assert.equal(Number(stats!.n), spans);
        assert.equal(decimalToPicos(stats!.total), expectedPicos);
      } finally {
        await store.close();
      }
    } finally {
      await aggregator.stop();
      await starting.catch(() => undefined);
    }
  });

  it(
    'the process keeps running while ClickHouse is down and stops cleanly on SIGTERM',
    { timeout: 60_000 },
    async () => {
      const [apiPort, clickhousePort] = [await freePort(), await freePort()];
      const child = spawn(process.execPath, [MAIN], {
        env: {
          ...process.env,
          KAFKA_BROKERS: services.kafkaBrokers.join(','),
          CLICKHOUSE_URL: `http://127.0.0.1:${clickhousePort}`,
          CLICKHOUSE_DATABASE: names.database,
          COSTTRACE_SPANS_TOPIC: names.topic,
          COSTTRACE_CONSUMER_GROUP: names.groupId,
          COSTTRACE_BUDGETS: 'off',
          COSTTRACE_API_PORT: String(apiPort),
          COSTTRACE_HTTP_PORT: '0',
          COSTTRACE_GRPC_PORT: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        // Several failed attempts (250 ms, 500 ms, 1 s, ...) while the process stays up.
        await waitFor(
          'three waiting attempts logged',
          () => Promise.resolve(output),
          (text) => text.split('waiting for ClickHouse').length > 3,
          30_000,
        );
        assert.equal(child.exitCode, null, 'still running');
        const r = await readiness(apiPort);
        assert.equal(r.status, 503);
        assert.equal(r.waitingFor?.dependency, 'ClickHouse');
      } finally {
        child.kill('SIGTERM');
      }
      assert.equal(await exited, 0, `graceful exit; output: ${output.slice(-1500)}`);
    },
  );

  it('still stops at once with a message on invalid configuration', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, KAFKA_BROKERS: 'not a broker', COSTTRACE_BUDGETS: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // 'close', not 'exit': the output is read to its end.
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    assert.equal(code, 2);
    const line = JSON.parse(output.trim()) as { level: number; msg: string };
    assert.equal(line.level, 60, 'logged as fatal');
    assert.match(line.msg, /^invalid configuration: KAFKA_BROKERS entry "not a broker" is invalid: use host:port/);
  });
});
