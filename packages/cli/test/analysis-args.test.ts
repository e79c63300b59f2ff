// Pure parts of the analysis commands: the shared flag parser, exact allocation and
// percentages, the chargeback split, the forecast projection, revenue proration.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { chargeback, parseAllocation, parseChargebackArgs } from '../src/analysis/chargeback.js';
import { allocate, parseCommand, percentChange } from '../src/analysis/common-flags.js';
import { parseCompareArgs } from '../src/analysis/compare.js';
import { parseEstimateArgs } from '../src/analysis/estimate.js';
import { monthBounds, parseForecastArgs, project } from '../src/analysis/forecast.js';
import { parseTopArgs } from '../src/analysis/top.js';
import { parseUnitEconomicsArgs, proratedRevenue } from '../src/analysis/unit-economics.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0) / 1000;

describe('shared analysis flags', () => {
  it('parses relative and absolute times, --by, repeated --where, --format and --limit', () => {
    const r = parseCommand(
      [
        'routes',
        '--since',
        '24h',
        '--until',
        '2026-11-23T11:00:00Z',
        '--by',
        'route,model',
        '--where',
        'tenant=acme',
        '--where',
        'tenant=globex',
        '--format=csv',
        '--limit',
        '5',
      ],
      {},
      NOW,
    );
    assert.ok(r.ok);
    assert.deepEqual(r.value.positionals, ['routes']);
    assert.equal(r.value.common.since, NOW - 86_400);
    assert.equal(r.value.common.until, Date.UTC(2026, 10, 23, 11) / 1000);
    assert.deepEqual(r.value.common.by, ['route', 'model']);
    assert.deepEqual(r.value.common.query.filters, [{ dimension: 'tenant', values: ['acme', 'globex'] }]);
    assert.equal(r.value.common.format, 'csv');
    assert.equal(r.value.common.limit, 5);
  });

  it('names the flag and the fix in errors', () => {
    const cases: [string[], RegExp][] = [
      [['--format', 'xml'], /--format must be one of table, json, csv/],
      [['--since', 'yesterday'], /--since: .*duration back from now/],
      [['--by', 'colour'], /--by: cannot group by "colour": use one of/],
      [['--where', 'nope'], /--where: .*dimension=value/],
      [['--limit', '0'], /--limit: limit must be an integer/],
      [['--bogus'], /unknown option --bogus/],
    ];
    for (const [argv, message] of cases) {
      const r = parseCommand(argv, {}, NOW);
      assert.equal(r.ok, false, argv.join(' '));
      if (!r.ok) assert.match(r.message, message);
    }
  });

  it('each command validates its own words and flags', () => {
    assert.equal(parseTopArgs(['commits'], NOW).ok, true);
    assert.equal(parseTopArgs([], NOW).ok, false);
    assert.equal(parseTopArgs(['routes', '--by', 'model'], NOW).ok, false);
    assert.equal(parseCompareArgs(['commit', 'a'], NOW).ok, false);
    assert.equal(parseCompareArgs(['period', '7d', '1d..now'], NOW).ok, false);
    const p = parseCompareArgs(['period', '14d..7d', '7d..now'], NOW);
    assert.ok(p.ok);
    assert.equal(p.value.queryA.until, p.value.queryB.since);
    assert.equal(parseUnitEconomicsArgs(['--revenue', 'acme'], NOW).ok, false);
    assert.equal(parseUnitEconomicsArgs(['--revenue', 'acme:1', '--revenue-per-request', '1'], NOW).ok, false);
    assert.equal(parseChargebackArgs(['--by', 'team,tenant'], NOW).ok, false);
    assert.equal(parseForecastArgs(['--until', '1h'], NOW).ok, false);
    assert.equal(parseEstimateArgs(['training', '--gpu', 'h100-80gb'], NOW).ok, false);
    const e = parseEstimateArgs(
      ['training', '--gpu', 'h100-80gb', '--epochs', '3', '--samples', '1000', '--rate', '1'],
      NOW,
    );
    assert.ok(e.ok && e.value.kind === 'training');
    if (e.ok && e.value.kind === 'training') assert.equal(e.value.hours, 833_333n); // 3000 s = 0.833333 h
  });
});

describe('exact arithmetic', () => {
  it('allocate always sums to the amount and stays within one unit of the exact share', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc
          .array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 1, maxLength: 8 })
          .filter((w) => w.some((x) => x > 0n)),
        (amount, weights) => {
          const parts = allocate(amount, weights);
          assert.equal(
            parts.reduce((a, b) => a + b, 0n),
            amount,
          );
          const total = weights.reduce((a, b) => a + b, 0n);
          parts.forEach((p, i) => {
            const exact = (amount < 0n ? -amount : amount) * weights[i]!;
            const abs = p < 0n ? -p : p;
            assert.ok(abs * total <= exact + total && abs * total >= exact - total);
          });
        },
      ),
    );
  });

  it('percentages are rounded half to even at two places', () => {
    assert.equal(percentChange(200n, 250n), '25.00');
    assert.equal(percentChange(3n, 2n), '-33.33');
    assert.equal(percentChange(0n, 5n), null);
  });

  it('chargeback moves the unattributed and shared pool to the others, exactly', () => {
    const r = chargeback(
      [
        { name: 'a', cost: 300n, requests: 1 },
        { name: 'b', cost: 100n, requests: 1 },
        { name: '', cost: 7n, requests: 1 },
        { name: 'ops', cost: 3n, requests: 0 },
      ],
      ['ops'],
      { kind: 'proportional' },
    );
    assert.ok(r.ok);
    const by = new Map(r.lines.map((l) => [l.name, l]));
    assert.equal(by.get('a')!.allocated + by.get('b')!.allocated, 10n);
    assert.equal(by.get('a')!.allocated, 8n); // 7.5 → 8 (largest remainder, earlier entry)
    assert.equal(
      r.lines.reduce((s, l) => s + l.total, 0n),
      410n,
    );
    assert.equal(by.get('(unattributed)')!.total, 0n);
    const fixed = parseAllocation('fixed:a=60,b=40');
    assert.ok(typeof fixed !== 'string');
    const f = chargeback([{ name: '', cost: 10n, requests: 0 }], [], fixed);
    assert.ok(f.ok);
    assert.deepEqual(
      f.lines.filter((l) => l.name !== '(unattributed)').map((l) => [l.name, l.total]),
      [
        ['a', 6n],
        ['b', 4n],
      ],
    );
    assert.equal(chargeback([{ name: '', cost: 10n, requests: 0 }], [], { kind: 'proportional' }).ok, false);
    assert.equal(parseAllocation('fixed:a=50'), '--allocate fixed: percentages add up to 50, not 100');
  });

  it('forecast projects month-to-date plus the burn rate, and finds the exhaustion second', () => {
    const { start, end } = monthBounds(NOW);
    assert.equal(start, Date.UTC(2026, 10, 1) / 1000);
    assert.equal(end, Date.UTC(2026, 11, 1) / 1000);
    // 1 USD a day, 10 USD so far, 7.5 days left
    const day = 10n ** 12n;
    const p = project(10n * day, 7n * day, 7 * 86_400, NOW, end, 15n * day);
    assert.equal(p.projected, 10n * day + (7n * day * BigInt(end - NOW)) / (7n * 86_400n));
    assert.equal(p.ratePerDay, day);
    assert.equal(p.exhaustion, NOW + 5 * 86_400);
    assert.equal(project(20n * day, 0n, 86_400, NOW, end, 15n * day).exhaustion, 'exhausted');
    assert.equal(project(0n, 1n, 86_400, NOW, end, 100n * day).exhaustion, null);
  });

  it('monthly revenue is prorated over 730-hour months', () => {
    assert.equal(proratedRevenue(730n * 10n ** 12n, 3600), 10n ** 12n);
  });
});
