// `costtrace migrate`, `report` and `reprice` as functions, the same cases against the real
// ClickHouse and against a temporary DuckDB file: the report matches sums computed here; reprice
// reports the exact difference under a new snapshot, writes versioned corrections only with
// --apply, leaves span_costs untouched, and a second run finds nothing left to correct.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Money } from '@costtrace/core';
import { ClickHouseStore, DUCKDB_MIGRATIONS, DuckDbStore, MIGRATIONS } from '@costtrace/store';
import type { SpanCostRow } from '@costtrace/store';
import { runMigrate } from '../src/commands/migrate.js';
import { runReport } from '../src/commands/report.js';
import { runReprice } from '../src/commands/reprice.js';

const OLD = { input: 150_000n, cacheRead: 75_000n, output: 600_000n };
const NEW = { input: 200_000n, cacheRead: 100_000n, output: 800_000n };

function capture() {
  let out = '';
  let err = '';
  return {
    output: { out: (t: string) => void (out += t), err: (t: string) => void (err += t) },
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}

/** A store under test, with its migration list and how to drop what the test created. */
interface Backend {
  readonly name: string;
  readonly migrations: readonly { version: number }[];
  open(dir: string): { store: ClickHouseStore | DuckDbStore; drop: () => Promise<void> };
}

const BACKENDS: readonly Backend[] = [
  {
    name: 'ClickHouse',
    migrations: MIGRATIONS,
    open: () => {
      const url = process.env.CLICKHOUSE_URL;
      if (!url) throw new Error('CLICKHOUSE_URL is not set: run with `npm run test:integration`');
      const database = `ct_cli_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const store = new ClickHouseStore({ url, database });
      return { store, drop: () => store.command(`DROP DATABASE IF EXISTS ${database}`) };
    },
  },
  {
    name: 'DuckDB',
    migrations: DUCKDB_MIGRATIONS,
    // The file goes with the temporary folder.
    open: (dir) => ({ store: new DuckDbStore({ path: join(dir, 'costtrace.duckdb') }), drop: () => Promise.resolve() }),
  },
];

/** The cases, on one store: each store gets its own database or file. */
function casesOn(backend: Backend): void {
  const dir = mkdtempSync(join(tmpdir(), 'costtrace-cli-'));
  const { store, drop } = backend.open(dir);
  const migrations = backend.migrations;
  const now = Math.floor(Date.now() / 1000);
  const rows: SpanCostRow[] = [];
  let oldTotal = 0n;
  let newTotal = 0n;
  /** The correction each span should get, by `traceId/spanId`. */
  const deltas = new Map<string, bigint>();

  before(() => {
    for (let i = 0; i < 200; i++) {
      const input = 1000 + i * 13;
      const cached = (i * 7) % 500;
      const output = 50 + i;
      const old = BigInt(input - cached) * OLD.input + BigInt(cached) * OLD.cacheRead + BigInt(output) * OLD.output;
      const repriced =
        BigInt(input - cached) * NEW.input + BigInt(cached) * NEW.cacheRead + BigInt(output) * NEW.output;
      // GPU time: kept as stored on rows that do not record what priced it (stored before
      // migration 8); priced again on rows that do: an hour of an H100 at the snapshot's
      // reference rate of 2.50 per GPU-hour instead of the stored 6.88.
      const recorded = i % 10 === 5;
      const gpu = i % 10 === 0 ? 1_000_000n : recorded ? 6_880_000_000_000n : 0n;
      const newGpu = recorded ? 2_500_000_000_000n : gpu;
      oldTotal += old + gpu;
      newTotal += repriced + newGpu;
      deltas.set(
        `${i.toString(16).padStart(32, '0')}/${(i + 1).toString(16).padStart(16, '0')}`,
        repriced + newGpu - (old + gpu),
      );
      const start = BigInt(now - 600 + i) * 1_000_000_000n;
      const money = (p: bigint) => Money.fromSubunits(p);
      rows.push({
        startTimeUnixNano: start,
        endTimeUnixNano: start,
        traceId: i.toString(16).padStart(32, '0'),
        spanId: (i + 1).toString(16).padStart(16, '0'),
        parentSpanId: '',
        spanName: 'chat',
        spanKind: 2,
        statusCode: 0,
        isRequest: true,
        service: 'svc',
        environment: 'prod',
        route: i % 2 ? '/a' : '/b',
        commit: i % 3 ? 'c1' : 'c2',
        model: 'gpt-4o-mini',
        provider: 'openai',
        team: '',
        tenant: i % 4 ? 'acme' : 'globex',
        feature: '',
        inputTokens: BigInt(input),
        outputTokens: BigInt(output),
        cacheReadTokens: BigInt(cached),
        cacheWriteTokens: 0n,
        reasoningTokens: 0n,
        gpuType: recorded ? 'h100-80gb' : '',
        gpuCount: recorded ? 1 : 0,
        gpuSeconds: recorded ? '3600' : '0',
        instanceType: '',
        ...(recorded ? { usageComplete: true } : {}),
        costInput: money(old),
        costOutput: Money.zero(),
        costCacheRead: Money.zero(),
        costCacheWrite: Money.zero(),
        costReasoning: Money.zero(),
        costGpu: money(gpu),
        costCompute: Money.zero(),
        costTotal: money(old + gpu),
        currency: 'USD',
        pricingVersion: 'bundled-2026-11-01',
        pricingSource: 'aggregator',
        priceIds: [],
        unpricedReason: '',
        kafkaTopic: 't',
        kafkaPartition: 0,
        kafkaOffset: BigInt(i),
        kafkaSpanIndex: 0,
        attributeKeys: [],
        attributeValues: [],
        rollupOverflow: [],
        sanitized: [],
      });
    }
  });

  after(async () => {
    await drop().catch(() => undefined);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates, idempotently, and reports status', async () => {
    const first = capture();
    assert.equal(await runMigrate([], { store, output: first.output }), 0);
    assert.match(first.out, new RegExp(`applied migrations ${migrations.map((m) => m.version).join(', ')}`));
    const again = capture();
    assert.equal(await runMigrate([], { store, output: again.output }), 0);
    assert.match(again.out, /is up to date/);
    const status = capture();
    await runMigrate(['--status'], { store, output: status.output });
    assert.equal(status.out.split('\n').filter((l) => l.startsWith('applied')).length, migrations.length);
    await store.insertSpanCosts(rows);
    const check = capture();
    assert.equal(await runMigrate(['--check-rollup'], { store, output: check.output }), 0, check.out);
    assert.match(check.out, /the rollup equals span_costs in every minute/);
  });

  it('reports cost by commit with filters, as JSON and CSV', async () => {
    const json = capture();
    assert.equal(
      await runReport(['--by', 'commit', '--since', '1h', '--where', 'tenant=acme', '--format', 'json'], {
        store,
        output: json.output,
        nowSeconds: now,
      }),
      0,
    );
    const got = JSON.parse(json.out) as { commit: string; cost: string }[];
    const expected = new Map<string, bigint>();
    for (const r of rows.filter((r) => r.tenant === 'acme'))
      expected.set(r.commit, (expected.get(r.commit) ?? 0n) + r.costTotal.subunits);
    assert.deepEqual(new Map(got.map((r) => [r.commit, Money.parse(r.cost).subunits])), expected);
    const csv = capture();
    await runReport(['--by', 'route,model', '--since', '1h', '--format', 'csv'], {
      store,
      output: csv.output,
      nowSeconds: now,
    });
    assert.match(
      csv.out,
      /^route,model,cost,spans,requests,tokens,cost_per_request,cost_per_1k_requests,cost_per_1m_tokens\r\n/,
    );
    const bad = capture();
    assert.equal(await runReport(['--by', 'nope'], { store, output: bad.output }), 2);
    assert.match(bad.err, /--by: cannot group by "nope"/);
  });

  it('reprices under another snapshot, applies versioned corrections, keeps the originals', async () => {
    const snapshot = join(dir, 'prices.json');
    writeFileSync(
      snapshot,
      JSON.stringify({
        format: 'costtrace.price-snapshot.v1',
        version: 'negotiated-2026-11',
        snapshotVersion: '11',
        source: 'pricing-cache',
        builtAt: '2026-11-30T00:00:00Z',
        prices: [
          ['input_tokens', '0.20'],
          ['cache_read_tokens', '0.10'],
          ['output_tokens', '0.80'],
        ]
          .map(([kind, amount]) => ({
            provider: 'openai',
            resourceType: 'model',
            sku: 'gpt-4o-mini',
            kind,
            unit: '1m_tokens',
            amount,
            effectiveFrom: '2026-01-01',
            source: 'negotiated',
          }))
          .concat([
            {
              provider: 'reference',
              resourceType: 'gpu',
              sku: 'h100-80gb',
              kind: 'gpu_time',
              unit: 'gpu_hour',
              amount: '2.50',
              effectiveFrom: '2026-01-01',
              source: 'internal rate',
            },
          ]),
        overrides: [],
      }),
    );
    const dry = capture();
    assert.equal(
      await runReprice(['--since', '1h', '--snapshot', snapshot, '--format', 'json'], {
        store,
        output: dry.output,
        nowSeconds: now,
      }),
      0,
    );
    const report = JSON.parse(dry.out) as {
      spans: number;
      changed: number;
      current: string;
      repriced: string;
      difference: string;
      correctionsWritten: number;
    };
    assert.equal(report.spans, rows.length);
    assert.equal(report.changed, rows.length);
    assert.equal(Money.parse(report.current).subunits, oldTotal);
    assert.equal(Money.parse(report.repriced).subunits, newTotal);
    assert.equal(Money.parse(report.difference).subunits, newTotal - oldTotal);
    assert.equal(report.correctionsWritten, 0);
    const [{ n }] = (await store.select<{ n: number | string }>(
      `SELECT count(*) AS n FROM ${store.database}.cost_corrections`,
    )) as [{ n: number | string }];
    assert.equal(Number(n), 0, 'a dry run writes nothing');

    const applied = capture();
    await runReprice(['--since', '1h', '--snapshot', snapshot, '--apply'], {
      store,
      output: applied.output,
      nowSeconds: now,
    });
    assert.match(applied.out, new RegExp(`wrote ${rows.length} correction rows as reprice-negotiated-2026-11-`));
    // CAST … AS VARCHAR reads exact decimal text on both engines.
    const written = await store.select<{ trace_id: string; span_id: string; delta: string }>(
      `SELECT trace_id, span_id, CAST(delta_total AS VARCHAR) AS delta FROM ${store.database}.cost_corrections`,
    );
    assert.deepEqual(
      new Map(written.map((r) => [`${r.trace_id}/${r.span_id}`, Money.parse(r.delta).subunits])),
      deltas,
      'one correction per span, each the exact repriced difference',
    );

    const corrected = capture();
    await runReport(['--since', '1h', '--corrections', '--format', 'json'], {
      store,
      output: corrected.output,
      nowSeconds: now,
    });
    assert.equal(
      Money.parse((JSON.parse(corrected.out) as { cost: string }[])[0]!.cost).subunits,
      newTotal,
      'reports with corrections',
    );
    const original = capture();
    await runReport(['--since', '1h', '--source', 'spans', '--format', 'json'], {
      store,
      output: original.output,
      nowSeconds: now,
    });
    assert.equal(
      Money.parse((JSON.parse(original.out) as { cost: string }[])[0]!.cost).subunits,
      oldTotal,
      'originals stay auditable',
    );

    const again = capture();
    await runReprice(['--since', '1h', '--snapshot', snapshot, '--apply', '--format', 'json'], {
      store,
      output: again.output,
      nowSeconds: now,
    });
    const second = JSON.parse(again.out) as { changed: number; difference: string };
    assert.equal(second.changed, 0, 'nothing left to correct');
    assert.equal(Money.parse(second.difference).subunits, 0n);
  });
}

for (const backend of BACKENDS) {
  describe(`costtrace migrate / report / reprice on ${backend.name}`, () => casesOn(backend));
}
