import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCostQuery, queryParams, stringLiteral } from '../src/index.js';
import { tsvStringArray, tsvString } from '../src/clickhouse/tsv.js';
import { costQuerySql, usesRollup } from '../src/query/clickhouse-cost-sql.js';

const NOW = 1_795_400_000;
const parse = (pairs: [string, string][]) => parseCostQuery(queryParams(pairs), NOW);

describe('cost query parsing', () => {
  it('parses group-by, filters, time range, buckets', () => {
    const r = parse([
      ['group_by', 'route,model'],
      ['tenant', 'acme'],
      ['tenant', 'globex'],
      ['where', 'service=api'],
      ['since', '2026-11-20T00:00:00Z'],
      ['until', '1795300000'],
      ['bucket', '1h'],
    ]);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.query.groupBy, ['route', 'model']);
    assert.deepEqual(r.query.filters, [
      { dimension: 'tenant', values: ['acme', 'globex'] },
      { dimension: 'service', values: ['api'] },
    ]);
    assert.equal(r.query.since, Date.parse('2026-11-20T00:00:00Z') / 1000);
    assert.equal(r.query.bucketSeconds, 3600);
    assert.equal(r.query.orderBy, 'time');
  });

  it('names the bad parameter', () => {
    const cases: [[string, string][], string][] = [
      [[['group_by', 'route,1']], 'group_by'],
      [[['since', 'yesterday']], 'since'],
      [
        [
          ['since', '1h'],
          ['until', '2h'],
        ],
        'until',
      ],
      [[['limit', '0']], 'limit'],
      [[['bucket', '7m']], 'bucket'],
      [[['bogus', 'x']], 'bogus'],
      [[['where', 'nodim']], 'where'],
      [
        [
          ['source', 'rollup'],
          ['group_by', 'feature'],
        ],
        'source',
      ],
      [
        [
          ['corrections', 'true'],
          ['group_by', 'feature'],
        ],
        'group_by',
      ],
      [
        [
          ['limit', '1'],
          ['limit', '2'],
        ],
        'limit',
      ],
    ];
    for (const [pairs, parameter] of cases) {
      const r = parse(pairs);
      assert.equal(r.ok, false, JSON.stringify(pairs));
      if (!r.ok) assert.equal(r.parameter, parameter, JSON.stringify(pairs));
    }
  });

  it('builds SQL with every value quoted and rollups only when exact', () => {
    const r = parse([
      ['group_by', 'route'],
      ['route', "x' OR 1=1 --"],
      ['since', '1h'],
    ]);
    assert.ok(r.ok);
    const sql = costQuerySql('db', r.query);
    assert.ok(sql.includes(`route IN (${stringLiteral("x' OR 1=1 --")})`));
    assert.ok(sql.includes("'x\\' OR 1=1 --'"));
    assert.equal(usesRollup(r.query), false, 'filters read span_costs');
    const unfiltered = parse([
      ['group_by', 'route'],
      ['since', '1h'],
    ]);
    assert.ok(unfiltered.ok && usesRollup(unfiltered.query));
    const feature = parse([
      ['group_by', 'feature'],
      ['since', '1h'],
    ]);
    assert.ok(feature.ok && !usesRollup(feature.query));
  });

  it('escapes string literals and TSV fields so no input ends them', () => {
    assert.equal(stringLiteral("a'b\\c\n\0"), "'a\\'b\\\\c\\n\\0'");
    assert.equal(tsvString('a\tb\nc\\'), 'a\\tb\\nc\\\\');
    assert.equal(tsvStringArray(["it's", 'a\\b', 'tab\t']), "['it\\'s','a\\\\b','tab\\t']");
    assert.equal(tsvStringArray([]), '[]');
  });
});
