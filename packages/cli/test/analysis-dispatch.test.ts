// The dispatcher routes every analysis command with --help (examples included) and reports
// usage errors with exit code 2, without a store; the recommend SQL is accepted by DuckDB.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { focusUsageSql, gpuSpansSql, tokenMixSql } from '@costtrace/store';
import { run } from '../src/index.js';
import { linesFromUsage } from '../src/analysis/focus-export.js';
import type { CliIo, CostSource } from '../src/index.js';

const COMMANDS = [
  'top',
  'compare',
  'estimate',
  'forecast',
  'unit-economics',
  'chargeback',
  'recommend',
  'export',
  'jobs',
];

function io(): CliIo & { text: () => string; errors: () => string } {
  let out = '';
  let err = '';
  const empty: CostSource = {
    queryCosts: () => Promise.resolve([]),
    topSpans: () => Promise.resolve([]),
    pricingCoverage: () => Promise.resolve([]),
  };
  return {
    out: (t) => void (out += `${t}\n`),
    err: (t) => void (err += `${t}\n`),
    env: {},
    costSource: () => ({ source: empty, close: () => Promise.resolve() }),
    text: () => out,
    errors: () => err,
  };
}

describe('analysis commands through the dispatcher', () => {
  it('answers a word that is no command with exit 2, the closest commands and the whole list, --help or not', async () => {
    for (const argv of [
      ['jobz', '--help'],
      ['frobnicate', '--since', '1h'],
      ['--since', '1h'],
    ]) {
      const x = io();
      assert.equal(await run(argv, x), 2, argv.join(' '));
      assert.match(x.errors(), new RegExp(`^costtrace: unknown command "${argv[0]}"`), argv.join(' '));
      assert.match(x.errors(), /\n {2}report {2,}cost by any dimensions/, 'every command is listed');
      assert.equal(x.text(), '');
    }
    const typo = io();
    assert.equal(await run(['reprot', '--since', '1h'], typo), 2);
    assert.match(typo.errors(), /unknown command "reprot" \(did you mean "report"/);
  });

  for (const name of COMMANDS) {
    it(`${name} --help shows usage, examples and exit codes`, async () => {
      const x = io();
      assert.equal(await run([name, '--help'], x), 0);
      assert.match(x.text(), new RegExp(`usage: costtrace ${name}`));
      assert.match(x.text(), /examples:\n {2}costtrace /);
      assert.match(x.text(), /Exit codes: 0 ok/);
    });
    it(`${name} answers an unknown flag with exit 2 and what to do`, async () => {
      const x = io();
      assert.equal(await run([name, ...(name === 'export' ? ['--format', 'focus'] : []), '--nope', '1'], x), 2);
      assert.match(x.errors(), new RegExp(`costtrace ${name}: .*--nope[\\s\\S]*usage:`));
    });
  }

  it('top over an empty store prints only headers', async () => {
    const x = io();
    assert.equal(await run(['top', 'routes', '--format', 'csv'], x), 0);
    assert.equal(x.text(), 'route,cost,share_pct,requests,tokens,cost_per_request,cost_per_1m_tokens\r\n');
  });
});

describe('recommend signal SQL', () => {
  // The default quoting escapes with backslashes (ClickHouse); DuckDB doubles quotes.
  const duckLiteral = (v: string): string => `'${v.replaceAll("'", "''")}'`;
  it('is accepted by DuckDB as well as ClickHouse', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      await c.run('CREATE SCHEMA db');
      await c.run(`CREATE TABLE db.span_costs (start_time_unix_nano UBIGINT, route VARCHAR, model VARCHAR, provider VARCHAR,
        service VARCHAR, tenant VARCHAR, trace_id VARCHAR, span_id VARCHAR, gpu_type VARCHAR, gpu_seconds DECIMAL(38,12),
        input_tokens UBIGINT, cache_read_tokens UBIGINT, is_request UTINYINT, cost_input DECIMAL(38,12),
        cost_total DECIMAL(38,12), attribute_keys VARCHAR[], attribute_values VARCHAR[])`);
      await c.run(`INSERT INTO db.span_costs VALUES (1700000000000000000, '/a', 'm', 'p', 's', 'acme', 't', 'x', 'l4', 1.5,
        2000, 100, 1, 0.25, 0.5, ['costtrace.gpu.utilization'], ['0.3'])`);
      const range = {
        since: 1_699_999_000,
        until: 1_700_001_000,
        filters: [{ dimension: 'tenant' as const, values: ["ac'me", 'acme'] }],
      };
      const mix = (await c.runAndReadAll(tokenMixSql('db', range, duckLiteral))).getRowObjectsJS();
      assert.deepEqual(mix, [
        {
          route: '/a',
          model: 'm',
          provider: 'p',
          input_tokens: '2000',
          cache_read_tokens: '100',
          requests: '1',
          spans: '1',
          cost_input: '0.250000000000',
          cost_total: '0.500000000000',
        },
      ]);
      const gpu = (await c.runAndReadAll(gpuSpansSql('db', range, 10, duckLiteral))).getRowObjectsJS();
      assert.equal(gpu.length, 1);
      await c.run(`ALTER TABLE db.span_costs ADD COLUMN environment VARCHAR DEFAULT 'prod'`);
      for (const col of ['commit', 'team', 'currency'])
        await c.run(`ALTER TABLE db.span_costs ADD COLUMN "${col}" VARCHAR DEFAULT ''`);
      for (const col of ['output_tokens', 'cache_write_tokens', 'reasoning_tokens'])
        await c.run(`ALTER TABLE db.span_costs ADD COLUMN ${col} UBIGINT DEFAULT 0`);
      for (const col of [
        'cost_output',
        'cost_cache_read',
        'cost_cache_write',
        'cost_reasoning',
        'cost_gpu',
        'cost_compute',
      ])
        await c.run(`ALTER TABLE db.span_costs ADD COLUMN ${col} DECIMAL(38,12) DEFAULT 0`);
      const usage = (await c.runAndReadAll(focusUsageSql('db', range, 3600, 100, duckLiteral))).getRowObjectsJS();
      assert.equal(usage.length, 1);
      assert.equal(usage[0]!.bucket_ns, '1699999200000000000');
      assert.equal(usage[0]!.cost_total, '0.500000000000');
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});

describe('FOCUS lines', () => {
  it('split a group by cost kind and add up to its total exactly', () => {
    const lines = linesFromUsage({
      bucket_ns: '1700000000000000000',
      model: 'gpt-4o',
      input_tokens: '1000',
      cache_read_tokens: '400',
      output_tokens: '50',
      requests: '3',
      spans: '4',
      gpu_seconds: '7200',
      cost_input: '0.0015',
      cost_cache_read: '0.0003',
      cost_output: '0.0005',
      cost_gpu: '2',
      cost_total: '2.0023000001',
    });
    const by = new Map(lines.map((l) => [l.kind, l]));
    assert.deepEqual([...by.keys()], ['input', 'output', 'cache_read', 'gpu', 'other']);
    assert.equal(by.get('input')!.quantity, '600');
    assert.equal(by.get('gpu')!.quantity, '2');
    assert.equal(by.get('other')!.cost, 100n);
    assert.equal(
      lines.reduce((a, l) => a + l.cost, 0n),
      2_002_300_000_100n,
    );
    assert.equal(
      lines.reduce((a, l) => a + l.requests, 0),
      3,
    );
  });
});
