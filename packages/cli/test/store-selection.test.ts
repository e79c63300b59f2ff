// `--store` / COSTTRACE_STORE: parsing, and `costtrace report` on an embedded DuckDB file
// (read-only), with the exact sums checked by independent bigint arithmetic; `migrate` on a new
// DuckDB file (read-write), and `api:` refused for the commands that write.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatScaled, Money, MONEY_SCALE } from '@costtrace/core';
import { DUCKDB_MIGRATIONS, DuckDbStore } from '@costtrace/store';
import type { SpanCostRow } from '@costtrace/store';
import { run } from '../src/index.js';
import { extractStoreFlag, parseStoreSelection } from '../src/store-selection.js';

const NOW = 1_795_000_000 - (1_795_000_000 % 60);

function row(i: number, route: string, subunits: bigint): SpanCostRow {
  const zero = Money.zero();
  const start = BigInt(NOW - 600 + i) * 1_000_000_000n;
  return {
    startTimeUnixNano: start,
    endTimeUnixNano: start + 1_000_000n,
    traceId: i.toString(16).padStart(32, '0'),
    spanId: i.toString(16).padStart(16, '0'),
    parentSpanId: '',
    spanName: 'POST',
    spanKind: 2,
    statusCode: 0,
    isRequest: true,
    service: 'svc',
    environment: 'dev',
    route,
    commit: 'c1',
    model: 'gpt-4o',
    provider: 'openai',
    team: '',
    tenant: 'acme',
    feature: '',
    inputTokens: 100n,
    outputTokens: 50n,
    cacheReadTokens: 0n,
    cacheWriteTokens: 0n,
    reasoningTokens: 0n,
    gpuType: '',
    gpuCount: 0,
    gpuSeconds: '0',
    instanceType: '',
    costInput: zero,
    costOutput: zero,
    costCacheRead: zero,
    costCacheWrite: zero,
    costReasoning: zero,
    costGpu: zero,
    costCompute: zero,
    costTotal: Money.fromSubunits(subunits),
    currency: 'USD',
    pricingVersion: 'v1',
    pricingSource: 'bundled',
    priceIds: [],
    unpricedReason: '',
    kafkaTopic: 'otlp_spans',
    kafkaPartition: 0,
    kafkaOffset: BigInt(i),
    kafkaSpanIndex: 0,
    attributeKeys: [],
    attributeValues: [],
    rollupOverflow: [],
    sanitized: [],
  };
}

describe('store selection', () => {
  let dir: string;
  let path: string;
  const rows = [row(1, '/v1/chat', 1_000_000_000_001n), row(2, '/v1/chat', 2n), row(3, '/v1/embed', 333_333_333_333n)];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-cli-store-'));
    path = join(dir, 'costtrace.duckdb');
    const store = new DuckDbStore({ path });
    await store.migrate();
    await store.insertSpanCosts(rows);
    await store.close();
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('parses the flag and the environment, the flag first', () => {
    assert.deepEqual(parseStoreSelection(undefined), { ok: true, value: { kind: 'clickhouse' } });
    assert.deepEqual(parseStoreSelection('duckdb:./x.duckdb'), {
      ok: true,
      value: { kind: 'duckdb', path: './x.duckdb' },
    });
    assert.equal(parseStoreSelection('postgres:x').ok, false);
    assert.deepEqual(extractStoreFlag(['--by', 'route', '--store', 'duckdb:a'], { COSTTRACE_STORE: 'duckdb:b' }), {
      argv: ['--by', 'route'],
      store: 'duckdb:a',
    });
    assert.deepEqual(extractStoreFlag(['--store=clickhouse'], {}), { argv: [], store: 'clickhouse' });
    assert.deepEqual(extractStoreFlag([], { COSTTRACE_STORE: 'duckdb:b' }), { argv: [], store: 'duckdb:b' });
  });

  it('reports from an embedded DuckDB file', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(
      ['report', '--by', 'route', '--since', String(NOW - 3600), '--until', String(NOW), '--format', 'json'],
      { out: (t) => out.push(t), err: (t) => err.push(t), env: { COSTTRACE_STORE: `duckdb:${path}` } },
    );
    assert.equal(code, 0, err.join('\n'));
    const parsed = JSON.parse(out.join('\n')) as unknown;
    const text = JSON.stringify(parsed);
    assert.ok(text.includes(formatScaled(1_000_000_000_003n, MONEY_SCALE)), text);
    assert.ok(text.includes(formatScaled(333_333_333_333n, MONEY_SCALE)), text);
  });

  it('migrates a new DuckDB file read-write, and refuses the read-only query API for writing commands', async () => {
    const fresh = join(dir, 'fresh', 'costtrace.duckdb');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: {} };
    assert.equal(await run(['migrate', '--store', `duckdb:${fresh}`], io), 0, err.join('\n'));
    assert.match(
      out.join('\n'),
      new RegExp(`applied migrations ${DUCKDB_MIGRATIONS.map((m) => m.version).join(', ')}`),
    );
    out.length = 0;
    assert.equal(await run(['migrate', '--status', `--store=duckdb:${fresh}`], io), 0, err.join('\n'));
    assert.equal(out.join('\n').match(/^applied /gm)?.length, DUCKDB_MIGRATIONS.length);
    for (const command of ['migrate', 'reprice']) {
      err.length = 0;
      assert.equal(await run([command, '--store', 'api:http://127.0.0.1:1'], io), 2);
      assert.match(err.join('\n'), /read-only: use --store clickhouse or --store duckdb:PATH/);
    }
  });

  it('says what to use for an unknown store', async () => {
    const err: string[] = [];
    const code = await run(['report', '--store', 'mysql:x'], {
      out: () => undefined,
      err: (t) => err.push(t),
      env: {},
    });
    assert.equal(code, 2);
    assert.match(err.join('\n'), /duckdb:PATH/);
  });
});
