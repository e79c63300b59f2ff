import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFlags } from '../src/command-args.js';
import { parseMigrateArgs } from '../src/commands/migrate.js';
import { parseReportArgs } from '../src/commands/report.js';
import { parseRepriceArgs } from '../src/commands/reprice.js';
import { renderRows } from '../src/table-format.js';

const NOW = 1_795_400_000;

describe('costtrace argument parsing', () => {
  it('parses flags with values, switches and repeats', () => {
    const r = parseFlags(['--by', 'commit', '--where=tenant=acme', '--where', 'model=x', '--apply'], {
      by: { type: 'string' },
      where: { type: 'string', multiple: true },
      apply: { type: 'boolean' },
    });
    assert.ok(r.ok);
    assert.deepEqual(Object.fromEntries(r.value), {
      by: ['commit'],
      where: ['tenant=acme', 'model=x'],
      apply: ['true'],
    });
    assert.deepEqual(parseFlags(['--by'], { by: { type: 'string' } }), { ok: false, message: '--by needs a value' });
    assert.equal(parseFlags(['--nope'], { by: { type: 'string' } }).ok, false);
    assert.equal(parseFlags(['--by', 'a', '--by', 'b'], { by: { type: 'string' } }).ok, false);
    assert.equal(parseFlags(['stray'], {}).ok, false);
  });

  it('builds coverage queries for report --coverage, and refuses cost-only flags with it', () => {
    const r = parseReportArgs(
      ['--coverage', '--by', 'service,emitter', '--since', '1h', '--where', 'model=gpt-4o'],
      NOW,
    );
    assert.ok(r.ok && 'coverage' in r.value, JSON.stringify(r));
    assert.deepEqual(r.value.coverage.groupBy, ['service', 'emitter']);
    assert.deepEqual(r.value.coverage.filters, [{ dimension: 'model', values: ['gpt-4o'] }]);
    assert.equal(r.value.coverage.since, Math.floor(NOW / 60) * 60 - 3600);
    assert.match(
      (parseReportArgs(['--coverage', '--by', 'route'], NOW) as { message: string }).message,
      /^--by: cannot group coverage by "route": use service, model, provider, emitter/,
    );
    assert.match(
      (parseReportArgs(['--coverage', '--bucket', '1h'], NOW) as { message: string }).message,
      /^--bucket does not apply to --coverage/,
    );
  });

  it('builds report queries', () => {
    const r = parseReportArgs(
      ['--by', 'route,model', '--since', '24h', '--where', 'tenant=acme', '--format', 'csv'],
      NOW,
    );
    assert.ok(r.ok && 'query' in r.value, JSON.stringify(r));
    assert.deepEqual(r.value.query.groupBy, ['route', 'model']);
    assert.deepEqual(r.value.query.filters, [{ dimension: 'tenant', values: ['acme'] }]);
    assert.equal(r.value.query.since, Math.floor(NOW / 60) * 60 - 86_400);
    assert.equal(r.value.format, 'csv');
    const bad = parseReportArgs(['--by', 'route;drop'], NOW);
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.message, /^--by: cannot group by/);
    assert.match(
      (parseReportArgs(['--where', 'evil=1'], NOW) as { message: string }).message,
      /^--where: cannot filter by "evil"/,
    );
    assert.match((parseReportArgs(['--format', 'xml'], NOW) as { message: string }).message, /--format/);
    assert.match((parseReportArgs(['--order-by', 'x'], NOW) as { message: string }).message, /^--order-by/);
  });

  it('parses migrate and reprice arguments', () => {
    assert.deepEqual(parseMigrateArgs(['--status']), { ok: true, value: { statusOnly: true, checkRollup: false } });
    assert.deepEqual(parseMigrateArgs(['--check-rollup']), {
      ok: true,
      value: { statusOnly: false, checkRollup: true },
    });
    assert.match((parseMigrateArgs(['--status', '--check-rollup']) as { message: string }).message, /exclude/);
    const r = parseRepriceArgs(['--since', '7d', '--snapshot', 'p.json', '--where', 'model=gpt-4o', '--apply'], NOW);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.apply, true);
    assert.equal(r.value.snapshotPath, 'p.json');
    assert.deepEqual(r.value.query.filters, [{ dimension: 'model', values: ['gpt-4o'] }]);
    assert.match((parseRepriceArgs(['--since', '7d'], NOW) as { message: string }).message, /--snapshot is required/);
    assert.match(
      (parseRepriceArgs(['--snapshot', 'p.json'], NOW) as { message: string }).message,
      /--since is required/,
    );
  });

  it('renders table, JSON and CSV', () => {
    const columns = ['route', 'cost'];
    const rows = [
      ['/a', '1.5'],
      ['/b,"x"', '10'],
    ];
    assert.equal(renderRows('csv', columns, rows), 'route,cost\r\n/a,1.5\r\n"/b,""x""",10\r\n');
    assert.deepEqual(JSON.parse(renderRows('json', columns, rows)), [
      { route: '/a', cost: '1.5' },
      { route: '/b,"x"', cost: '10' },
    ]);
    assert.equal(renderRows('table', columns, rows), 'route   cost\n------  ----\n/a       1.5\n/b,"x"    10\n');
  });
});
