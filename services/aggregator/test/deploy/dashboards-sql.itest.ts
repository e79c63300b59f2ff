// Every ClickHouse query of the Grafana dashboards (deploy/grafana/dashboards) runs against the
// real ClickHouse (18.16 in CI) on the real schema and returns the columns its panel expects.
// Grafana's macros are substituted the way grafana-clickhouse-datasource does.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClickHouseStore } from '@costtrace/store';
import { BUDGET_MIGRATIONS } from '../../src/budgets/budget-migrations.js';
import { liveServices, uniqueNames } from '../support/live-services.js';
import { ROOT, readText } from './deploy-files.js';

interface Target {
  datasource: { type: string };
  rawSql?: string;
  expr?: string;
}
interface Panel {
  title: string;
  targets: Target[];
}

/** The columns each panel's query must return, in order. */
const EXPECTED: Record<string, string[]> = {
  'Spend by service (USD)': ['time', 'service', 'cost_usd'],
  'Spend by route (USD)': ['time', 'route', 'cost_usd'],
  'Spend by commit (USD)': ['time', 'commit', 'cost_usd'],
  'Spend by model (USD)': ['time', 'model', 'cost_usd'],
  'Spend by tenant (USD)': ['time', 'tenant', 'cost_usd'],
  'Cost per request and per 1M tokens by route': [
    'route',
    'requests',
    'tokens',
    'cost_usd',
    'cost_per_request_usd',
    'cost_per_1m_tokens_usd',
  ],
  'Top traces by cost': ['trace_id', 'service', 'route', 'tenant', 'spans', 'cost_usd', 'started'],
  'Unpriced spans': ['time', 'service', 'unpriced'],
  'Repricing corrections (USD)': ['time', 'service', 'delta_usd'],
  'Budget utilisation': ['budget_id', 'scope_key', 'spend_usd', 'limit_usd', 'utilisation_percent', 'engaged'],
  'Spend forecast to the end of the UTC day by service': ['service', 'spend_today_usd', 'forecast_end_of_day_usd'],
  'Throttles engaged': ['budget_id', 'scope_key', 'state', 'since'],
};

function dashboards(): { file: string; panels: Panel[] }[] {
  const dir = join(ROOT, 'deploy/grafana/dashboards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({
      file,
      panels: (JSON.parse(readText(`deploy/grafana/dashboards/${file}`)) as { panels: Panel[] }).panels,
    }));
}

/** grafana-clickhouse-datasource macros and the dashboard's $database variable. */
function substitute(sql: string, database: string, fromS: number, toS: number): string {
  return sql
    .replaceAll('${database}', database)
    .replace(/\$__timeFilter\(([^)]+)\)/g, `$1 >= toDateTime(${fromS}) AND $1 <= toDateTime(${toS})`)
    .replaceAll('$__fromTime', `toDateTime(${fromS})`)
    .replaceAll('$__toTime', `toDateTime(${toS})`)
    .replaceAll('$__interval_s', '60');
}

describe('Grafana dashboard SQL on the real ClickHouse', () => {
  const live = liveServices();
  const names = uniqueNames('dash');
  const store = new ClickHouseStore({ url: live.clickhouseUrl, database: names.database });
  const nowS = Math.floor(Date.now() / 1000);

  async function columns(sql: string): Promise<{ names: string[]; rows: number }> {
    const res = await fetch(`${live.clickhouseUrl}/?database=${names.database}`, {
      method: 'POST',
      body: `${sql}\nFORMAT JSONCompact`,
    });
    const text = await res.text();
    assert.equal(res.status, 200, `${text}\n${sql}`);
    const body = JSON.parse(text) as { meta: { name: string }[]; rows: number };
    return { names: body.meta.map((m) => m.name), rows: body.rows };
  }

  before(async () => {
    await store.migrate();
    await store.migrate(BUDGET_MIGRATIONS);
    // One span (the materialized view fills the rollup), a correction, a budget and its key state.
    const db = names.database;
    const t = nowS - 60;
    await store.command(
      `INSERT INTO ${db}.span_costs (start_time, trace_id, span_id, service, route, commit, model, tenant, input_tokens, output_tokens, cost_total, currency, kafka_topic, kafka_partition, kafka_offset) VALUES (toDateTime(${t}), 't1', 's1', 'chat-api', '/v1/chat', 'abc123', 'gpt-4o', 'acme', 1000, 500, 0.0125, 'USD', 'otlp_spans', 0, 1)`,
    );
    await store.command(
      `INSERT INTO ${db}.cost_corrections (correction_id, applied_at, start_time, trace_id, span_id, service, currency, previous_total, corrected_total, delta_total) VALUES ('c1', toDateTime(${t}), toDateTime(${t}), 't1', 's1', 'chat-api', 'USD', 0.0125, 0.011, -0.0015)`,
    );
    await store.command(
      `INSERT INTO ${db}.budget_documents (kind, id, version, deleted, document) VALUES ('budget', 'daily', 1, 0, '{"id":"daily","limit_usd":"50","window":"day"}')`,
    );
    await store.command(
      `INSERT INTO ${db}.budget_key_state (delta_topic, delta_partition, budget_id, scope_key, version, spend, engaged, state) VALUES ('cost_deltas', 0, 'daily', 'tenant=acme', 1, 55.5, 1, '{}')`,
    );
  });

  after(async () => {
    await store.command(`DROP DATABASE IF EXISTS ${names.database}`).catch(() => undefined);
    await store.close();
  });

  it('every ClickHouse panel has an expected column list', () => {
    const titles = dashboards().flatMap((d) =>
      d.panels.filter((p) => p.targets.some((t) => t.rawSql !== undefined)).map((p) => p.title),
    );
    assert.deepEqual([...titles].sort(), Object.keys(EXPECTED).sort());
  });

  for (const { file, panels } of dashboards()) {
    for (const panel of panels) {
      for (const target of panel.targets) {
        if (target.rawSql === undefined) continue;
        it(`${file}: ${panel.title}`, async () => {
          assert.equal(target.datasource.type, 'grafana-clickhouse-datasource');
          const sql = substitute(target.rawSql!, names.database, nowS - 6 * 3600, nowS + 60);
          assert.doesNotMatch(sql, /\$__|\$\{/, 'every macro is substituted');
          const result = await columns(sql);
          assert.deepEqual(result.names, EXPECTED[panel.title]);
          assert.ok(result.rows > 0, 'the seeded data shows up');
        });
      }
    }
  }
});
