// The aggregator in embedded mode, with no Kafka and no ClickHouse: the same ingest → bus →
// span consumer → store path on the in-process bus and DuckDB, checked against the workload's
// independently computed total; then a restart on the same files keeps every row exactly once.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { formatScaled, MONEY_SCALE } from '@costtrace/core';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { DuckDbStore } from '@costtrace/store';
import { Aggregator, InProcessBus, InProcessMessageLog, loadConfig } from '../src/index.js';
import type { AggregatorAddresses } from '../src/index.js';
import { mixedWorkload } from './support/otlp-fixtures.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

interface Embedded {
  aggregator: Aggregator;
  bus: InProcessBus;
  addresses: AggregatorAddresses;
}

async function startEmbedded(dir: string): Promise<Embedded> {
  const bus = new InProcessBus({ dataDir: join(dir, 'bus'), logger });
  const store = new DuckDbStore({ path: join(dir, 'costtrace.duckdb') });
  const config = loadConfig(
    { httpHost: '127.0.0.1', grpcHost: '127.0.0.1', apiHost: '127.0.0.1', httpPort: 0, grpcPort: 0, apiPort: 0 },
    {},
  );
  const aggregator = new Aggregator({ config, logger, messageLog: new InProcessMessageLog(bus), store });
  const addresses = await aggregator.start();
  return { aggregator, bus, addresses };
}

async function stopEmbedded(e: Embedded | undefined): Promise<void> {
  await e?.aggregator.stop();
  e?.bus.close();
}

/** Polls the query API until the total span count reaches `spans` (the API is the observable). */
async function totalWhenStored(api: string, spans: number): Promise<{ cost: string; spans: number }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await fetch(`${api}/api/v1/costs?since=2d`);
    const body = (await res.json()) as { rows: { cost: string; spans: number }[] };
    const row = body.rows[0];
    if (row !== undefined && row.spans >= spans) return row;
    if (Date.now() > deadline) throw new Error(`only ${row?.spans ?? 0} of ${spans} spans stored`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('embedded aggregator: in-process bus and DuckDB', () => {
  let dir: string;
  let running: Embedded | undefined;
  const workload = mixedWorkload(12, 25, 42);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-embedded-'));
  });

  after(async () => {
    await stopEmbedded(running);
    await rm(dir, { recursive: true, force: true });
  });

  it('ingests OTLP, prices, stores and answers queries', async () => {
    running = await startEmbedded(dir);
    const ingest = `http://127.0.0.1:${running.addresses.http!.port}/v1/traces`;
    for (const request of workload.requests) {
      const res = await fetch(ingest, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: ExportTraceServiceRequest.encode(request).finish(),
      });
      assert.equal(res.status, 200);
    }
    const api = `http://127.0.0.1:${running.addresses.api!.port}`;
    const total = await totalWhenStored(api, workload.spans);
    assert.equal(total.spans, workload.spans);
    assert.equal(total.cost, formatScaled(workload.expectedPicos, MONEY_SCALE));
    const ready = await fetch(`${api}/readyz`);
    assert.equal(ready.status, 200);
  });

  it('keeps every row exactly once across a restart on the same files', async () => {
    await stopEmbedded(running);
    running = await startEmbedded(dir);
    const api = `http://127.0.0.1:${running.addresses.api!.port}`;
    const res = await fetch(`${api}/api/v1/costs?since=2d&by=service`);
    const body = (await res.json()) as { rows: { cost: string; spans: number }[] };
    assert.equal(
      body.rows.reduce((n, r) => n + r.spans, 0),
      workload.spans,
    );
  });
});
