// One schema on both engines: the same migrations and the standard report queries run on the
// ClickHouse 18.16 server CI provisions and in chDB (a current ClickHouse engine, PyPI `chdb`,
// installed by scripts/chdb/install.sh into .cache/), on the same rows; the results must match.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Money } from '@costtrace/core';
import {
  ClickHouseStore,
  MIGRATIONS,
  parseCostQuery,
  queryParams,
  recordOfRow,
  SPAN_COST_COLUMNS,
  SpanCostEncoder,
} from '../src/index.js';
import { migrationStatements, ROLLUP_KEY } from '../src/clickhouse/migrations.js';
import {
  minuteHeldSql,
  minuteTruthSql,
  rollupHeldByKeySql,
  rollupTruthByKeySql,
  sourceCondition,
  storedSpanKeysSql,
} from '../src/clickhouse/recovery-sql.js';
import { COST_CORRECTION_COLUMNS, costCorrectionTsv } from '../src/clickhouse/span-cost-tsv.js';
import { billedLineTsv, billImportTsv } from '../src/billing/bill-rows.js';
import {
  clickhouseBilledTotalsSql,
  clickhouseBillImportsSql,
  clickhouseTracedUsageSql,
} from '../src/billing/bill-sql.js';
import { BILL_IMPORT_COLUMNS, BILLED_LINE_COLUMNS } from '../src/billing/bill-tables.js';
import { clickhouseTracedSecondsSql } from '../src/billing/traced-seconds-sql.js';
import type { BilledLine } from '@costtrace/core';
import type { BillImportRecord } from '../src/index.js';
import { costQuerySql, topSpansSql } from '../src/query/clickhouse-cost-sql.js';
import {
  costByCommitSinceDeploySql,
  costPer1kRequestsByRouteSql,
  topTracesTodaySql,
} from '../src/query/standard-reports.js';
import type { SpanCostRow } from '../src/index.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

function rows(count: number, nowSeconds: number): SpanCostRow[] {
  const out: SpanCostRow[] = [];
  const tricky = ["it's", 'back\\slash', 'tab\there', 'new\nline', 'plain', 'ünïcødé'];
  for (let i = 0; i < count; i++) {
    const start = BigInt(nowSeconds - 3 * 3600 + ((i * 37) % (3 * 3600))) * 1_000_000_000n + BigInt(i);
    const cost = Money.fromSubunits(BigInt(1 + ((i * 7919) % 100_000)) * 1_000_003n);
    out.push({
      startTimeUnixNano: start,
      endTimeUnixNano: start + 5_000_000n,
      traceId: (i % 97).toString(16).padStart(32, '0'),
      spanId: i.toString(16).padStart(16, '0'),
      parentSpanId: i % 4 === 0 ? '' : '00000000000000aa',
      spanName: `span ${tricky[i % tricky.length]}`,
      spanKind: i % 4 === 0 ? 2 : 3,
      statusCode: i % 10 === 0 ? 2 : 0,
      isRequest: i % 4 === 0,
      service: `svc-${i % 3}`,
      environment: i % 2 ? 'prod' : 'staging',
      route: `/r/${i % 5}/${tricky[i % tricky.length]}`,
      commit: `c${i % 7}`,
      model: i % 2 ? 'gpt-4o-mini' : 'claude-sonnet-4',
      provider: i % 2 ? 'openai' : 'anthropic',
      team: `team-${i % 2}`,
      tenant: `tenant-${i % 11}`,
      feature: 'f',
      inputTokens: BigInt(i * 3),
      outputTokens: BigInt(i),
      cacheReadTokens: 0n,
      cacheWriteTokens: 0n,
      reasoningTokens: 0n,
      gpuType: '',
      gpuCount: 0,
      // GPU and instance time on some spans, every decimal place used (the traced_seconds query).
      gpuSeconds: i % 3 === 0 ? `${i}.000000000125` : '0',
      instanceSeconds: i % 4 === 0 ? `${i * 2}.5` : '0',
      instanceType: '',
      costInput: cost,
      costOutput: Money.zero(),
      costCacheRead: Money.zero(),
      costCacheWrite: Money.zero(),
      costReasoning: Money.zero(),
      costGpu: Money.zero(),
      costCompute: Money.zero(),
      costTotal: cost,
      currency: 'USD',
      pricingVersion: 'v1',
      pricingSource: 'aggregator',
      priceIds: [`id-${tricky[i % tricky.length]}`],
      unpricedReason: '',
      kafkaTopic: 'otlp_spans',
      kafkaPartition: i % 3,
      kafkaOffset: BigInt(i),
      kafkaSpanIndex: 0,
      attributeKeys: ['k'],
      attributeValues: [tricky[i % tricky.length]!],
      rollupOverflow: i % 13 === 0 ? ['route', 'tenant'] : [],
      sanitized: [],
    });
  }
  return out;
}

/** Same value whatever the engine's formatting: decimals without trailing zeros, all as text. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string' && /^-?\d+\.\d+$/.test(value)) return value.replace(/\.?0+$/, '');
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  }
  return value;
}

describe('one schema on ClickHouse 18.16 and current ClickHouse (chDB)', () => {
  const url = process.env.CLICKHOUSE_URL;
  if (!url) throw new Error('CLICKHOUSE_URL is not set: run with `npm run test:integration`');
  const database = `ct_chdb_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const store = new ClickHouseStore({ url, database });
  const dir = mkdtempSync(join(tmpdir(), 'costtrace-chdb-'));
  let python = '';

  before(() => {
    const install = spawnSync('bash', [join(ROOT, 'scripts/chdb/install.sh')], { encoding: 'utf8', timeout: 600_000 });
    assert.equal(install.status, 0, `scripts/chdb/install.sh failed:\n${install.stderr}`);
    python = install.stdout.trim();
  });

  after(async () => {
    await store.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns the same report results on both engines', { timeout: 600_000 }, async () => {
    const now = Math.floor(Date.now() / 1000);
    const data = rows(3000, now);
    await store.migrate();
    await store.insertSpanCosts(data);
    const correction = {
      correctionId: 'corr-1',
      snapshotVersion: 'v2',
      appliedAtUnixSeconds: now,
      reason: "late price fix 'q'",
      startTimeUnixSeconds: Number(data[5]!.startTimeUnixNano / 1_000_000_000n),
      traceId: data[5]!.traceId,
      spanId: data[5]!.spanId,
      service: data[5]!.service,
      environment: data[5]!.environment,
      route: data[5]!.route,
      commit: data[5]!.commit,
      model: data[5]!.model,
      provider: data[5]!.provider,
      team: data[5]!.team,
      tenant: data[5]!.tenant,
      currency: 'USD',
      previousTotal: data[5]!.costTotal,
      correctedTotal: Money.parse('0.5'),
    };
    await store.insertCorrections([correction]);
    // Imported bills: two imports covering the same day (the later one holds it), with text that
    // needs escaping and amounts with every decimal place.
    const day = Math.floor(now / 86_400) * 86_400 - 86_400;
    const billLine = (i: number, quantity: string, cost: string | undefined): BilledLine => ({
      source: 'openai-usage',
      provider: i % 2 ? 'openai' : 'anthropic',
      account: "org-'1'",
      project: `proj\t${i % 3}`,
      apiKey: '',
      model: i % 2 ? 'gpt-4o-mini' : 'claude-sonnet-4',
      serviceTier: i % 4 === 0 ? 'batch' : '',
      periodStart: day,
      periodEnd: day + 86_400,
      kind: (['input', 'output', 'cache_read'] as const)[i % 3]!,
      quantity,
      unit: 'tokens',
      billedCost: cost,
      listCost: undefined,
      currency: 'USD',
      description: 'back\\slash',
      chargeCategory: 'Usage',
      service: 'completions',
      resourceId: '',
    });
    const firstImport = Array.from({ length: 20 }, (_, i) => billLine(i, String(1000 + i), undefined));
    const secondImport = Array.from({ length: 20 }, (_, i) =>
      billLine(i, String(2000 + i), `0.${String(i + 1).padStart(12, '7')}`),
    );
    const imports: BillImportRecord[] = [
      {
        importId: 'imp-1',
        source: 'openai-usage',
        account: "org-'1'",
        days: [day],
        importedAtMicros: 1n,
        lines: 20,
        origin: 'a.json',
      },
      {
        importId: 'imp-2',
        source: 'openai-usage',
        account: "org-'1'",
        days: [day],
        importedAtMicros: 2n,
        lines: 20,
        origin: 'b.json',
      },
    ];
    await store.insertBilledLines('imp-1', firstImport);
    await store.insertBilledLines('imp-2', secondImport);
    await store.commitBillImport(imports);

    const source = sourceCondition('otlp_spans', 1);
    const recoveryMinutes = [
      ...new Set(
        data.filter((r) => r.kafkaPartition === 1).map((r) => Number(r.startTimeUnixNano / 60_000_000_000n) * 60),
      ),
    ]
      .sort((a, b) => a - b)
      .slice(0, 40);
    const byKey = ROLLUP_KEY.join(', ');
    const q = (params: Record<string, string>) => {
      const parsed = parseCostQuery(queryParams(Object.entries(params)), now);
      assert.ok(parsed.ok, JSON.stringify(parsed));
      return costQuerySql(database, parsed.query);
    };
    const queries: Record<string, string> = {
      readme_cost_by_commit: costByCommitSinceDeploySql(database, 'svc-1', now - 7200),
      readme_cost_per_1k_by_route: costPer1kRequestsByRouteSql(database, 24),
      readme_top_traces_today: topTracesTodaySql(database),
      by_commit: q({ group_by: 'commit', since: '24h', source: 'spans' }),
      by_route_model_tenant_filter: q({ group_by: 'route,model', since: '24h', tenant: 'tenant-3' }),
      rollup_by_everything: q({
        group_by: 'service,environment,route,commit,model,provider,team,tenant',
        since: '24h',
        source: 'rollup',
        limit: '10000',
      }),
      series_5m: q({ group_by: 'service', bucket: '5m', since: '6h', source: 'spans', limit: '10000' }),
      series_rollup_1h: q({ bucket: '1h', since: '6h', source: 'rollup' }),
      top_traces: q({ group_by: 'trace_id', since: '24h', limit: '20' }),
      with_corrections: q({ group_by: 'service', since: '24h', corrections: 'true' }),
      top_spans: topSpansSql(database, { filters: [], since: now - 86_400, until: now + 60, limit: 20 }),
      arrays: `SELECT span_id, price_ids, attribute_values, rollup_overflow FROM ${database}.span_costs ORDER BY span_id LIMIT 50`,
      migrations: `SELECT version, name FROM ${database}.schema_migrations ORDER BY version`,
      // Imported bills and the traced side they are compared with (costtrace reconcile).
      billed_totals: clickhouseBilledTotalsSql(database, {
        since: day,
        until: day + 86_400,
        groupBy: ['day', 'provider', 'model', 'service_tier', 'project'],
      }),
      bill_imports: clickhouseBillImportsSql(database, 10),
      traced_usage: clickhouseTracedUsageSql(database, {
        since: now - 86_400,
        until: now + 60,
        groupBy: ['day', 'provider', 'model'],
        providers: ['openai', 'anthropic'],
      }),
      // The traced weights of a cluster's shared cost (costtrace chargeback --cluster-cost).
      traced_seconds: clickhouseTracedSecondsSql(database, { since: now - 86_400, until: now + 60, by: 'team' }),
      // Crash recovery and the rollup check (the same statements the store runs).
      recovery_stored_keys: `${storedSpanKeysSql(database, 'otlp_spans', 1, 100n, 900n)} ORDER BY offset, index`,
      recovery_rollup_truth: `SELECT * FROM (${rollupTruthByKeySql(database, source, recoveryMinutes)}) ORDER BY ${byKey}`,
      recovery_rollup_held: `SELECT * FROM (${rollupHeldByKeySql(database, source, recoveryMinutes)}) ORDER BY ${byKey}`,
      check_minute_truth: `${minuteTruthSql(database)} ORDER BY minute`,
      check_minute_held: `${minuteHeldSql(database, { fromUnixSeconds: now - 86_400, toUnixSeconds: now + 3600 })} ORDER BY minute`,
    };

    const server: Record<string, unknown[]> = {};
    for (const [name, sql] of Object.entries(queries)) server[name] = await store.select(sql);

    // The spans in the consumer's insert format, RowBinary (what the server got above too).
    const binary = join(dir, 'span_costs.rowbinary');
    const encoder = new SpanCostEncoder('RowBinary');
    for (const row of data) encoder.add(recordOfRow(row));
    writeFileSync(binary, encoder.finish().body);
    const corrections = join(dir, 'corrections.tsv');
    writeFileSync(corrections, costCorrectionTsv(correction));
    const billedLines = join(dir, 'billed_lines.tsv');
    writeFileSync(
      billedLines,
      [
        ...firstImport.map((l) => billedLineTsv('imp-1', l)),
        ...secondImport.map((l) => billedLineTsv('imp-2', l)),
      ].join(''),
    );
    const billImports = join(dir, 'bill_imports.tsv');
    writeFileSync(billImports, imports.map(billImportTsv).join(''));

    const statements = [
      `CREATE DATABASE IF NOT EXISTS ${database}`,
      `CREATE TABLE IF NOT EXISTS ${database}.schema_migrations (version UInt32, name String, applied_at DateTime('UTC') DEFAULT now()) ENGINE = MergeTree() ORDER BY version`,
      ...MIGRATIONS.flatMap((m) => [
        ...migrationStatements(m, database),
        `INSERT INTO ${database}.schema_migrations (version, name) VALUES (${m.version}, '${m.name}')`,
      ]),
    ];
    const job = {
      statements,
      loads: [
        { table: `${database}.span_costs`, columns: [...SPAN_COST_COLUMNS], path: binary, format: 'RowBinary' },
        { table: `${database}.cost_corrections`, columns: [...COST_CORRECTION_COLUMNS], path: corrections },
        { table: `${database}.billed_lines`, columns: [...BILLED_LINE_COLUMNS], path: billedLines },
        { table: `${database}.bill_imports`, columns: [...BILL_IMPORT_COLUMNS], path: billImports },
      ],
      queries,
    };
    const run = spawnSync(python, [join(ROOT, 'scripts/chdb/run-sql.py')], {
      input: JSON.stringify(job),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 300_000,
    });
    assert.equal(run.status, 0, `chDB run failed:\n${run.stderr}`);
    const chdb = JSON.parse(run.stdout) as { version: string; results: Record<string, unknown[]> };
    console.log(
      `ClickHouse server ${(await store.select<{ v: string }>('SELECT version() AS v'))[0]!.v} vs chDB ${chdb.version}`,
    );

    assert.deepEqual(server.recovery_rollup_held, server.recovery_rollup_truth, 'the rollup equals its spans');
    assert.deepEqual(
      server.check_minute_held,
      server.check_minute_truth,
      'every minute of the rollup equals its spans',
    );
    // The later import holds the day: quantities 2000.., the first import's 1000.. count for nothing.
    const billedTotal = (server.billed_totals as { quantity: string }[]).reduce((n, r) => n + Number(r.quantity), 0);
    assert.equal(
      billedTotal,
      secondImport.reduce((n, l) => n + Number(l.quantity), 0),
    );
    for (const name of Object.keys(queries)) {
      assert.ok(server[name]!.length > 0, `${name} returns rows`);
      assert.deepEqual(normalise(chdb.results[name]), normalise(server[name]), `${name}: same result on both engines`);
    }
  });
});
