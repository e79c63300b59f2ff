// FOCUS and CUR 2.0 exports as Parquet: the same rows written as CSV and as Parquet (typed as the
// exports type them: DECIMAL amounts, TIMESTAMP WITH TIME ZONE periods, a MAP of tags) import to
// the same lines, to the last decimal. A file that is not Parquet is refused, naming it, with
// nothing imported.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { BillingImportError, Money } from '@costtrace/core';
import { DuckDbStore } from '@costtrace/store';
import { importBillFiles, run } from '../src/index.js';

const FOCUS_CSV = [
  'BilledCost,ListCost,BillingCurrency,BillingAccountId,SubAccountId,ChargeCategory,ChargeDescription,ChargePeriodStart,ChargePeriodEnd,ConsumedQuantity,ConsumedUnit,ProviderName,ResourceType,ServiceCategory,ServiceName,SkuId,Tags',
  '98.304000000001,122.88,USD,acct-1,sub-a,Usage,p4d.24xlarge On Demand Linux,2026-11-10T00:00:00Z,2026-11-10T01:00:00Z,3,Hours,Amazon Web Services,p4d.24xlarge,Compute,Amazon Elastic Compute Cloud,SKU1,"{""team"":""ml, research""}"',
  '0.000000150000,0.00000015,USD,acct-1,sub-a,Usage,m5.large,2026-11-10T01:00:00Z,2026-11-10T02:00:00Z,0.000001,Hours,Amazon Web Services,m5.large,Compute,Amazon Elastic Compute Cloud,SKU2,{}',
  '-25,,USD,acct-1,sub-b,Credit,Promotional credit,2026-11-11T00:00:00Z,2026-11-12T00:00:00Z,,,Amazon Web Services,,,Amazon Elastic Compute Cloud,,{}',
  '4.2,,USD,acct-1,sub-b,Tax,Sales tax,2026-11-11T00:00:00Z,2026-11-12T00:00:00Z,,,Amazon Web Services,,,Tax,,{}',
].join('\n');

describe('bill imports from Parquet', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-parquet-'));
    await writeFile(join(dir, 'focus.csv'), `${FOCUS_CSV}\n`);
    // The same rows as an export writes them in Parquet: typed columns.
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    await c.run("SET TimeZone = 'UTC'");
    await c.run(
      `COPY (SELECT CAST(BilledCost AS DECIMAL(38, 12)) AS BilledCost, CAST(ListCost AS DECIMAL(38, 12)) AS ListCost,
         BillingCurrency, BillingAccountId, SubAccountId, ChargeCategory, ChargeDescription,
         CAST(ChargePeriodStart AS TIMESTAMPTZ) AS ChargePeriodStart, CAST(ChargePeriodEnd AS TIMESTAMPTZ) AS ChargePeriodEnd,
         CAST(ConsumedQuantity AS DECIMAL(38, 12)) AS ConsumedQuantity, ConsumedUnit, ProviderName, ResourceType,
         ServiceCategory, ServiceName, SkuId, Tags
       FROM read_csv('${join(dir, 'focus.csv')}', all_varchar = true, header = true))
       TO '${join(dir, 'focus.parquet')}' (FORMAT parquet)`,
    );
    c.closeSync();
    instance.closeSync();
    await writeFile(join(dir, 'not.parquet'), 'BilledCost\n1\n');
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function totals(file: string): Promise<unknown> {
    const store = new DuckDbStore({ path: join(dir, `${file}.duckdb`) });
    try {
      await store.migrate();
      const summary = await importBillFiles(store, 'focus', [join(dir, file)]);
      const rows = await store.billedTotals({
        since: Date.UTC(2026, 10, 1) / 1000,
        until: Date.UTC(2026, 11, 1) / 1000,
        groupBy: ['day', 'provider', 'account', 'project', 'model', 'charge_category'],
      });
      return { lines: summary.lines, rounded: summary.notes.rounded, rows };
    } finally {
      await store.close();
    }
  }

  it('reads the same lines from Parquet as from CSV', async () => {
    const csv = await totals('focus.csv');
    const parquet = await totals('focus.parquet');
    assert.deepEqual(parquet, csv);
    const rows = (
      csv as { rows: { dimensions: Record<string, string>; kind: string; billedCost: string; quantity: string }[] }
    ).rows;
    const gpu = rows.find((r) => r.kind === 'gpu_hours');
    assert.equal(gpu?.dimensions.model, 'p4d.24xlarge');
    assert.equal(gpu?.billedCost, '98.304000000001');
    assert.equal(gpu?.quantity, '3');
    assert.equal(rows.find((r) => r.dimensions.charge_category === 'Credit')?.billedCost, '-25');
  });

  it('refuses a file that is not Parquet, naming it, and imports nothing', async () => {
    const store = new DuckDbStore({ path: join(dir, 'bad.duckdb') });
    try {
      await store.migrate();
      await assert.rejects(
        importBillFiles(store, 'focus', [join(dir, 'not.parquet')]),
        (err: unknown) =>
          err instanceof BillingImportError &&
          err.code === 'INVALID_FORMAT' &&
          err.message.startsWith(join(dir, 'not.parquet')) &&
          /not a readable Parquet file/.test(err.message),
      );
      assert.deepEqual(await store.billImports(10), []);
    } finally {
      await store.close();
    }
  });

  it("reconciles the GPU instance hours of the bill with the spans' instance time", async () => {
    const path = join(dir, 'compute.duckdb');
    const store = new DuckDbStore({ path });
    await store.migrate();
    await importBillFiles(store, 'focus', [join(dir, 'focus.parquet')]);
    // One GPU span: an hour of p4d.24xlarge instance time, priced by costtrace at 30 $.
    const start = BigInt(Date.UTC(2026, 10, 10, 0, 30) / 1000) * 1_000_000_000n;
    const zero = Money.zero();
    await store.insertSpanCosts([
      {
        startTimeUnixNano: start,
        endTimeUnixNano: start + 3_600_000_000_000n,
        traceId: '0'.repeat(31) + '1',
        spanId: '0'.repeat(15) + '1',
        parentSpanId: '',
        spanName: 'train step',
        spanKind: 1,
        statusCode: 0,
        isRequest: true,
        service: 'trainer',
        environment: 'prod',
        route: '',
        commit: 'c1',
        model: '',
        provider: '',
        team: 'ml',
        tenant: '',
        feature: '',
        inputTokens: 0n,
        outputTokens: 0n,
        cacheReadTokens: 0n,
        cacheWriteTokens: 0n,
        reasoningTokens: 0n,
        gpuType: 'a100-40gb',
        gpuCount: 8,
        gpuSeconds: '28800',
        instanceType: 'p4d.24xlarge',
        cloudProvider: 'aws',
        instanceSeconds: '3600',
        costInput: zero,
        costOutput: zero,
        costCacheRead: zero,
        costCacheWrite: zero,
        costReasoning: zero,
        costGpu: zero,
        costCompute: Money.parse('30'),
        costTotal: Money.parse('30'),
        currency: 'USD',
        pricingVersion: 'test',
        pricingSource: 'sdk',
        priceIds: [],
        unpricedReason: '',
        kafkaTopic: 'otlp_spans',
        kafkaPartition: 0,
        kafkaOffset: 0n,
        kafkaSpanIndex: 0,
        attributeKeys: [],
        attributeValues: [],
        rollupOverflow: [],
        sanitized: [],
      },
    ]);
    await store.close();
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(
      [
        'reconcile',
        '--store',
        `duckdb:${path}`,
        '--since',
        '2026-11-10',
        '--until',
        '2026-11-13',
        '--by',
        'provider,model',
        '--format',
        'json',
      ],
      { out: (t) => out.push(t), err: (t) => err.push(t), env: {} },
    );
    assert.equal(code, 0, err.join('\n'));
    const report = JSON.parse(out.join('\n')) as {
      compute: {
        dimensions: { model: string };
        billedHours: string;
        tracedHours: string;
        drift: string;
        idle: string;
        rate: string;
      }[];
      notes: string[];
    };
    // 3 h billed at 98.304000000001 in all, 1 h traced at 30: drift 68.304000000001;
    // idle 2 h at the bill's rate: 2 × 98.304000000001 ÷ 3 = 65.5360000000006̅ → 65.536000000001;
    // rate: 68.304000000001 − 65.536000000001 = 2.768.
    const p4d = report.compute.find((c) => c.dimensions.model === 'p4d.24xlarge');
    assert.deepEqual(
      [p4d?.billedHours, p4d?.tracedHours, p4d?.drift, p4d?.idle, p4d?.rate],
      ['3', '1', '68.304000000001', '65.536000000001', '2.768'],
    );
    // The credit and the tax have nothing in the spans: named, not compared.
    assert.ok(
      report.notes.some((n) => n.startsWith('-20.8 USD of aws charges')),
      JSON.stringify(report.notes),
    );
  });
});
