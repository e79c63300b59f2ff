// `costtrace chargeback --cluster-cost opencost` end to end on an embedded DuckDB file: spans with
// costs and GPU and instance time per team, the OpenCost fixture of core's tests (two daily sets by
// namespace, with idle, unmounted and float-rounded allocations) imported with `costtrace bill
// import opencost`, and the chargeback run through the CLI. The expected figures are computed
// independently by a Python script (decimal arithmetic from the fixture's text and the spans'
// decimals, its own largest-remainder split), and the identities — the spread sums to the pool,
// the teams' cluster cost to the imported total — are checked with bigint sums here.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Money } from '@costtrace/core';
import { DuckDbStore } from '@costtrace/store';
import type { SpanCostRow } from '@costtrace/store';
import { chargeback, runChargeback } from '../src/analysis/chargeback.js';
import { clusterPartOf, parseClusterMap, spreadClusterCost } from '../src/analysis/cluster-cost.js';
import { run } from '../src/index.js';

const FIXTURE = fileURLToPath(
  new URL('../../../core/test/billing/fixtures/opencost-allocation-namespace-daily.json', import.meta.url),
);
const D0 = Date.UTC(2026, 10, 10) / 1000;
const D2 = D0 + 2 * 86_400;
const PERIOD = ['--since', '2026-11-10T00:00:00Z', '--until', '2026-11-12T00:00:00Z'];
const CLUSTER_FLAGS = [
  '--cluster-cost',
  'opencost',
  '--map',
  'ml-serving=chat',
  '--map',
  'ml-training=search',
  '--cluster-shared',
  'kube-system',
  '--shared',
  'platform',
];

/** A span as the consumer stores it: `team`, a cost, GPU and instance seconds. */
interface SpanSpec {
  readonly team: string;
  readonly day: 0 | 1;
  readonly cost: string;
  readonly gpuSeconds: string;
  readonly instanceSeconds: string;
  readonly duplicate?: boolean;
}

const SPANS: readonly SpanSpec[] = [
  ...Array.from({ length: 3 }, (): SpanSpec => ({
    team: 'search',
    day: 0,
    cost: '1.5',
    gpuSeconds: '3600.5',
    instanceSeconds: '450.25',
  })),
  { team: 'search', day: 1, cost: '0.333333333333', gpuSeconds: '7200', instanceSeconds: '0' },
  { team: 'search', day: 1, cost: '0', gpuSeconds: '999999', instanceSeconds: '999', duplicate: true },
  { team: 'chat', day: 0, cost: '0.75', gpuSeconds: '1800', instanceSeconds: '1800.125' },
  { team: 'chat', day: 1, cost: '0.75', gpuSeconds: '1800', instanceSeconds: '1800.125' },
  { team: 'batch', day: 1, cost: '0.01', gpuSeconds: '0', instanceSeconds: '60.000000000001' },
  { team: '', day: 0, cost: '0.2', gpuSeconds: '100', instanceSeconds: '0' },
  { team: 'platform', day: 1, cost: '0.4', gpuSeconds: '500', instanceSeconds: '0' },
];

function span(i: number, s: SpanSpec): SpanCostRow {
  const start = BigInt(D0 + s.day * 86_400 + 3600 + i) * 1_000_000_000n;
  const cost = Money.parse(s.cost, 'USD');
  return {
    startTimeUnixNano: start,
    endTimeUnixNano: start + 1_000_000_000n,
    traceId: (0xc1000 + i).toString(16).padStart(32, '0'),
    spanId: (0xd1000 + i).toString(16).padStart(16, '0'),
    parentSpanId: '',
    spanName: 'generate',
    spanKind: 2,
    statusCode: 0,
    isRequest: true,
    service: 'inference',
    environment: 'prod',
    route: '/v1/generate',
    commit: 'a1b2c3d',
    model: '',
    provider: '',
    team: s.team,
    tenant: 'acme',
    feature: '',
    inputTokens: 0n,
    outputTokens: 0n,
    cacheReadTokens: 0n,
    cacheWriteTokens: 0n,
    reasoningTokens: 0n,
    gpuType: s.gpuSeconds === '0' ? '' : 'H100',
    gpuCount: s.gpuSeconds === '0' ? 0 : 8,
    gpuSeconds: s.gpuSeconds,
    instanceType: 'p5.48xlarge',
    cloudProvider: 'aws',
    instanceSeconds: s.instanceSeconds,
    costInput: Money.zero(),
    costOutput: Money.zero(),
    costCacheRead: Money.zero(),
    costCacheWrite: Money.zero(),
    costReasoning: Money.zero(),
    costGpu: cost,
    costCompute: Money.zero(),
    costTotal: cost,
    currency: 'USD',
    pricingVersion: 'test',
    pricingSource: 'aggregator:bundled',
    priceIds: [],
    unpricedReason: '',
    usageRole: s.duplicate === true ? 'duplicate' : '',
    duplicateOf: s.duplicate === true ? (0xd1000).toString(16).padStart(16, '0') : '',
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

/**
 * The expected chargeback, in Python's decimal arithmetic: the cluster's cost per allocation from
 * the fixture's totalCost text, the parts by name, the traced split of the unattributed and shared
 * spans, and the pool's largest-remainder spread by traced seconds or allocated cost.
 */
const EXPECTED_PY = String.raw`
import json, sys
from datetime import datetime
from decimal import Decimal, ROUND_HALF_EVEN
inp = json.load(sys.stdin)
P = 10 ** 12
def pico(text):
    return int((Decimal(text) * P).to_integral_value(ROUND_HALF_EVEN))
def dec(p):
    sign = '-' if p < 0 else ''
    w, f = divmod(abs(p), P)
    f = str(f).rjust(12, '0').rstrip('0')
    return sign + str(w) + ('.' + f if f else '')
def lr(amount, weights):
    total = sum(weights)
    a = abs(amount)
    parts = [a * w // total for w in weights]
    left = a - sum(parts)
    for r, i in sorted((((a * w) % total, i) for i, w in enumerate(weights)), key=lambda x: (-x[0], x[1])):
        if left == 0:
            break
        parts[i] += 1
        left -= 1
    return [-p for p in parts] if amount < 0 else parts

doc = json.loads(open(inp['fixture']).read(), parse_float=Decimal)
since, until = inp['since'], inp['until']
cost = {}
for step in doc['data']:
    for name, a in step.items():
        start = int(datetime.fromisoformat(a['window']['start'].replace('Z', '+00:00')).timestamp())
        if since <= start < until:
            cost[name] = cost.get(name, 0) + pico(str(a['totalCost']))

pool_names = [''] + inp['tracedShared']
parts = dict(allocated=0, unmapped=0, idle=0, shared=0, unallocated=0)
allocated = {}
for name, c in cost.items():
    if '__idle__' in name: part = 'idle'
    elif '__shared__' in name or name in inp['clusterShared']: part = 'shared'
    elif '__unallocated__' in name or '__unmounted__' in name: part = 'unallocated'
    else:
        team = inp['map'].get(name)
        if team is None: part = 'unmapped'
        elif team in pool_names: part = 'shared'
        else:
            part = 'allocated'
            allocated[team] = allocated.get(team, 0) + c
    parts[part] += c
total = sum(cost.values())
pool = parts['unmapped'] + parts['idle'] + parts['shared'] + parts['unallocated']

direct, seconds = {}, {}
for s in inp['spans']:
    direct[s['team']] = direct.get(s['team'], 0) + pico(s['cost'])
    if not s.get('duplicate'):
        seconds[s['team']] = seconds.get(s['team'], 0) + pico(s['gpuSeconds']) + pico(s['instanceSeconds'])
traced_pool = sum(c for t, c in direct.items() if t in pool_names)
receivers = sorted((t for t in direct if t not in pool_names), key=lambda t: (-direct[t], t))
traced_split = dict(zip(receivers, lr(traced_pool, [direct[t] for t in receivers])))

names = sorted(set(receivers) | set(allocated) | {t for t, s in seconds.items() if s > 0})
names = [n for n in names if n not in pool_names]
if inp['rule'] == 'traced':
    weights = [seconds.get(n, 0) for n in names]
else:
    weights = [max(allocated.get(n, 0), 0) for n in names]
spread = dict(zip(names, lr(pool, weights)))
rows = {}
for n in sorted(set(receivers) | set(names)):
    a, s = allocated.get(n, 0), spread.get(n, 0)
    rows[n] = dict(direct=dec(direct.get(n, 0)), allocated_shared=dec(traced_split.get(n, 0)),
                   cluster_allocated=dec(a), cluster_shared=dec(s),
                   total=dec(direct.get(n, 0) + traced_split.get(n, 0) + a + s))
print(json.dumps(dict(rows=rows, parts={k: dec(v) for k, v in parts.items()}, total=dec(total), pool=dec(pool),
                      grand_total=dec(sum(direct.values()) + total))))
`;

const python = spawnSync('python3', ['--version']).status === 0;

interface Expected {
  readonly rows: Record<
    string,
    { direct: string; allocated_shared: string; cluster_allocated: string; cluster_shared: string; total: string }
  >;
  readonly parts: Record<string, string>;
  readonly total: string;
  readonly pool: string;
  readonly grand_total: string;
}

function expected(rule: 'traced' | 'opencost'): Expected {
  const input = {
    fixture: FIXTURE,
    since: D0,
    until: D2,
    map: { 'ml-serving': 'chat', 'ml-training': 'search' },
    clusterShared: ['kube-system'],
    tracedShared: ['platform'],
    rule,
    spans: SPANS,
  };
  return JSON.parse(
    execFileSync('python3', ['-c', EXPECTED_PY], { input: JSON.stringify(input) }).toString(),
  ) as Expected;
}

function pico(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const value = BigInt(whole) * 10n ** 12n + BigInt(fraction.padEnd(12, '0'));
  return negative ? -value : value;
}

type Row = Record<string, string | number | null>;

describe('costtrace chargeback --cluster-cost opencost', () => {
  let dir: string;
  let db: string;
  const out: string[] = [];
  const err: string[] = [];
  const io = () => ({ out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: {} });

  async function cli(...argv: string[]): Promise<number> {
    out.length = 0;
    err.length = 0;
    return run(argv, io());
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-cluster-chargeback-'));
    db = join(dir, 'costtrace.duckdb');
    const store = new DuckDbStore({ path: db });
    await store.migrate();
    await store.insertSpanCosts(SPANS.map((s, i) => span(i, s)));
    await store.close();
    assert.equal(await cli('bill', 'import', 'opencost', FIXTURE, '--store', `duckdb:${db}`), 0, err.join('\n'));
    assert.match(out.join('\n'), /imported 42 opencost line\(s\)/);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function chargebackJson(...extra: string[]): Promise<{ rows: Row[]; cluster: Record<string, unknown> }> {
    const code = await cli(
      'chargeback',
      ...PERIOD,
      ...CLUSTER_FLAGS,
      ...extra,
      '--format',
      'json',
      '--store',
      `duckdb:${db}`,
    );
    assert.equal(code, 0, err.join('\n'));
    return JSON.parse(out.join('\n')) as { rows: Row[]; cluster: Record<string, unknown> };
  }

  for (const rule of ['traced', 'opencost'] as const) {
    it(
      `spreads the pool by ${rule === 'traced' ? 'traced seconds' : "OpenCost's allocation"}, as Python computes it`,
      { skip: !python && 'python3 is not installed' },
      async () => {
        const { rows, cluster } = await chargebackJson('--cluster-allocate', rule);
        const want = expected(rule);
        const teams = rows.filter((r) => r.team !== 'TOTAL' && !String(r.team).endsWith(')'));
        assert.deepEqual(
          Object.fromEntries(
            teams.map((r) => [
              r.team,
              {
                direct: r.direct_cost,
                allocated_shared: r.allocated_shared,
                cluster_allocated: r.cluster_allocated,
                cluster_shared: r.cluster_shared,
                total: r.total_cost,
              },
            ]),
          ),
          want.rows,
        );
        assert.equal(cluster.imported_total, want.total);
        assert.equal(cluster.pool, want.pool);
        for (const part of ['allocated', 'unmapped', 'idle', 'shared', 'unallocated']) {
          assert.equal(cluster[part], want.parts[part], part);
        }
        const total = rows.find((r) => r.team === 'TOTAL')!;
        assert.equal(total.total_cost, want.grand_total);
        assert.equal(cluster.allocate, rule);
        assert.deepEqual(cluster.clusters, ['gpu-cluster-1']);
      },
    );
  }

  it('reconciles: the spread sums to the pool, the teams to the imported total, the rows to the TOTAL', async () => {
    for (const rule of ['traced', 'opencost']) {
      const { rows, cluster } = await chargebackJson('--cluster-allocate', rule);
      const body = rows.filter((r) => r.team !== 'TOTAL');
      const sum = (column: string): bigint => body.reduce((a, r) => a + pico(String(r[column])), 0n);
      assert.equal(sum('cluster_shared'), pico(String(cluster.pool)));
      assert.equal(sum('cluster_allocated') + sum('cluster_shared'), pico(String(cluster.imported_total)));
      const parts = ['allocated', 'unmapped', 'idle', 'shared', 'unallocated'].map((p) => pico(String(cluster[p])));
      assert.equal(
        parts.reduce((a, b) => a + b, 0n),
        pico(String(cluster.imported_total)),
      );
      // The imported total is the two days of the fixture: 527.38007 + 376.07976.
      assert.equal(cluster.imported_total, '903.45983');
      const total = rows.find((r) => r.team === 'TOTAL')!;
      assert.equal(sum('total_cost'), pico(String(total.total_cost)));
      assert.equal(pico(String(total.total_cost)), pico(String(total.direct_cost)) + pico('903.45983'));
      // The unmapped namespace is named, with its cost (0.01562 on each day).
      assert.deepEqual(cluster.unmapped_names, [{ name: 'opencost', cost: '0.03124' }]);
    }
  });

  it('shows the cluster section in the table, and the rows alone as CSV', async () => {
    assert.equal(await cli('chargeback', ...PERIOD, ...CLUSTER_FLAGS, '--store', `duckdb:${db}`), 0, err.join('\n'));
    const table = out.join('\n');
    assert.match(table, /^team\s+direct_cost\s+allocated_shared\s+cluster_allocated\s+cluster_shared\s+total_cost/);
    assert.match(
      table,
      /cluster cost \(OpenCost, cluster gpu-cluster-1\): the pool is spread in proportion to each team's traced GPU-seconds \+ instance-seconds/,
    );
    assert.match(table, /imported total\s+903\.45983/);
    assert.match(table, /note: no team for opencost 0\.03124: name them with --map/);
    assert.equal(await cli('chargeback', ...PERIOD, ...CLUSTER_FLAGS, '--format', 'csv', '--store', `duckdb:${db}`), 0);
    const csv = out.join('\n');
    assert.match(
      csv,
      /^team,direct_cost,allocated_shared,cluster_allocated,cluster_shared,total_cost,share_pct,requests\r\n/,
    );
    assert.doesNotMatch(csv, /imported total/);
  });

  it('says what is missing or contradictory', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--map', 'a=b'], 2, /--map needs --cluster-cost opencost/],
      [['--cluster-cost', 'kubecost'], 2, /--cluster-cost must be opencost/],
      [['--cluster-cost', 'opencost', '--by', 'route'], 2, /use --by team or --by tenant/],
      [['--cluster-cost', 'opencost', '--where', 'service=x'], 2, /--where cannot be combined with --cluster-cost/],
      [
        ['--cluster-cost', 'opencost', '--cluster-allocate', 'even'],
        2,
        /--cluster-allocate must be traced or opencost/,
      ],
      [['--cluster-cost', 'opencost', '--map', 'ml-serving'], 2, /--map: "ml-serving" is not NAME=TEAM/],
      [['--cluster-cost', 'opencost', '--map', 'a=x,a=y'], 2, /"a" is mapped twice/],
      [
        ['--cluster-cost', 'opencost', '--shared', 'platform', '--map', 'a=platform'],
        2,
        /platform is a --shared value/,
      ],
      [['--cluster-cost', 'opencost', '--map', 'a=x', '--cluster-shared', 'a'], 2, /both --cluster-shared and --map/],
    ];
    for (const [argv, code, says] of cases) {
      assert.equal(await cli('chargeback', ...PERIOD, ...argv, '--store', `duckdb:${db}`), code, argv.join(' '));
      assert.match(err.join('\n'), says);
    }
    // A period without OpenCost imports: no data (exit 3).
    assert.equal(
      await cli(
        'chargeback',
        '--since',
        '2026-10-01T00:00:00Z',
        '--until',
        '2026-10-02T00:00:00Z',
        '--cluster-cost',
        'opencost',
        '--store',
        `duckdb:${db}`,
      ),
      3,
    );
    assert.match(err.join('\n'), /no OpenCost allocations imported for the period/);
    // Through a cost source without a store (the query API): said, not guessed.
    const lines: string[] = [];
    const code = await runChargeback([...PERIOD, '--cluster-cost', 'opencost'], {
      source: {
        queryCosts: () => Promise.resolve([]),
        topSpans: () => Promise.resolve([]),
        pricingCoverage: () => Promise.resolve([]),
      },
      output: { out: (t) => lines.push(t), err: (t) => lines.push(t) },
    });
    assert.equal(code, 1);
    assert.match(lines.join(''), /--cluster-cost reads the imported bills from the store/);
  });
});

describe('cluster cost, pure', () => {
  const mapping = {
    map: new Map([['ml-serving', 'chat']]),
    sharedNames: ['kube-system'],
    tracedPool: ['', 'platform'],
  };

  it('sorts each allocation into its part', () => {
    assert.deepEqual(clusterPartOf('__idle__', 'namespace', mapping), { part: 'idle' });
    assert.deepEqual(clusterPartOf('cluster-1/__idle__', 'namespace', mapping), { part: 'idle' });
    assert.deepEqual(clusterPartOf('__shared__', 'namespace', mapping), { part: 'shared' });
    assert.deepEqual(clusterPartOf('kube-system', 'namespace', mapping), { part: 'shared' });
    assert.deepEqual(clusterPartOf('__unallocated__', 'label:team', mapping), { part: 'unallocated' });
    assert.deepEqual(clusterPartOf('__unmounted__', 'namespace', mapping), { part: 'unallocated' });
    assert.deepEqual(clusterPartOf('ml-serving', 'namespace', mapping), { part: 'allocated', team: 'chat' });
    assert.deepEqual(clusterPartOf('ml-batch', 'namespace', mapping), { part: 'unmapped' });
    // A label report names its teams; --map renames; a team of the traced pool is shared.
    assert.deepEqual(clusterPartOf('search', 'label:team', mapping), { part: 'allocated', team: 'search' });
    assert.deepEqual(clusterPartOf('ml-serving', 'label:team', mapping), { part: 'allocated', team: 'chat' });
    assert.deepEqual(clusterPartOf('platform', 'team', mapping), { part: 'shared' });
  });

  it('splits the pool exactly, ties to the earlier name, and says when nothing can take it', () => {
    const costs = [
      { cluster: 'c', name: 'search', aggregate: 'label:team', cost: 5n },
      { cluster: 'c', name: 'chat', aggregate: 'label:team', cost: 5n },
      { cluster: 'c', name: '__idle__', aggregate: 'label:team', cost: 7n },
    ];
    const byAllocation = spreadClusterCost(costs, [], new Map(), mapping, 'opencost');
    assert.ok(byAllocation.ok);
    // 7 over equal weights: 3.5 each, the leftover unit to "chat" (earlier by name).
    assert.deepEqual(
      byAllocation.value.teams.map((t) => [t.name, t.allocated, t.spread]),
      [
        ['chat', 5n, 4n],
        ['search', 5n, 3n],
      ],
    );
    assert.equal(byAllocation.value.total, 17n);
    const bySeconds = spreadClusterCost(
      costs,
      ['batch'],
      new Map([
        ['batch', 3n],
        ['search', 1n],
        ['', 100n],
      ]),
      mapping,
      'traced',
    );
    assert.ok(bySeconds.ok);
    assert.deepEqual(
      bySeconds.value.teams.map((t) => [t.name, t.weight, t.spread]),
      [
        ['batch', 3n, 5n],
        ['chat', 0n, 0n],
        ['search', 1n, 2n],
      ],
    );
    const none = spreadClusterCost(costs, [], new Map(), mapping, 'traced');
    assert.ok(!none.ok);
    assert.match(none.message, /no team has traced GPU or instance seconds/);
    const nothing = spreadClusterCost(
      [{ cluster: 'c', name: 'x', aggregate: 'namespace', cost: 3n }],
      [],
      new Map(),
      mapping,
      'opencost',
    );
    assert.ok(!nothing.ok);
    assert.match(nothing.message, /no team has allocated cluster cost/);
  });

  it('reads --map pairs and lists', () => {
    assert.deepEqual(
      parseClusterMap(['a=x,b=y', 'c = z']),
      new Map([
        ['a', 'x'],
        ['b', 'y'],
        ['c', 'z'],
      ]),
    );
    assert.equal(parseClusterMap(['=x']), '--map: "=x" is not NAME=TEAM');
    assert.ok(chargeback([], [], { kind: 'even' }).ok);
  });
});
