// Writes deploy/grafana/dashboards/*.json: `node deploy/grafana/generate-dashboards.mjs`.
// SQL runs on ClickHouse 18.16 and current releases (no toStartOfInterval, no DateTime64);
// services/aggregator/test/deploy/dashboards-sql.itest.ts runs every query against ClickHouse.
import { writeFileSync } from 'node:fs';

const CH = { type: 'grafana-clickhouse-datasource', uid: 'costtrace-clickhouse' };
const PROM = { type: 'prometheus', uid: 'costtrace-prometheus' };
const bucket = 'toDateTime(intDiv(toUInt32(minute), $__interval_s) * $__interval_s)';
let id = 0;

function panel(title, type, targets, grid, extra = {}) {
  id += 1;
  return { id, title, type, gridPos: grid, targets, ...extra };
}
function sql(rawSql, format = 'table') {
  return {
    datasource: CH,
    refId: 'A',
    editorType: 'sql',
    queryType: format === 'time_series' ? 'timeseries' : 'table',
    format: format === 'time_series' ? 0 : 1,
    rawSql,
  };
}
function prom(expr, legendFormat, refId = 'A') {
  return { datasource: PROM, refId, expr, legendFormat };
}
function dashboard(uid, title, panels, templating = []) {
  return {
    uid,
    title,
    tags: ['costtrace'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: { list: templating },
    panels,
  };
}
const databaseVar = {
  name: 'database',
  type: 'constant',
  query: 'costtrace',
  hide: 2,
};

const dims = ['service', 'route', 'commit', 'model', 'tenant'];
const spend = dims.map((dim, i) =>
  panel(
    `Spend by ${dim} (USD)`,
    'timeseries',
    [
      sql(
        `SELECT ${bucket} AS time, ${dim}, toFloat64(sum(cost_total)) AS cost_usd
FROM \${database}.span_costs_1m
WHERE $__timeFilter(minute)
GROUP BY time, ${dim}
ORDER BY time`,
        'time_series',
      ),
    ],
    { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
  ),
);
const costPanels = [
  ...spend,
  panel(
    'Cost per request and per 1M tokens by route',
    'table',
    [
      sql(`SELECT route, sum(requests) AS requests, sum(input_tokens + output_tokens) AS tokens,
  toFloat64(sum(cost_total)) AS cost_usd,
  cost_usd / greatest(requests, 1) AS cost_per_request_usd,
  cost_usd * 1000000 / greatest(tokens, 1) AS cost_per_1m_tokens_usd
FROM \${database}.span_costs_1m
WHERE $__timeFilter(minute)
GROUP BY route
ORDER BY cost_usd DESC
LIMIT 100`),
    ],
    { x: 12, y: 16, w: 12, h: 8 },
  ),
  panel(
    'Top traces by cost',
    'table',
    [
      sql(`SELECT trace_id, any(service) AS service, any(route) AS route, any(tenant) AS tenant, count() AS spans,
  toFloat64(sum(cost_total)) AS cost_usd, min(start_time) AS started
FROM \${database}.span_costs
WHERE $__timeFilter(start_time)
GROUP BY trace_id
ORDER BY cost_usd DESC
LIMIT 20`),
    ],
    { x: 0, y: 24, w: 24, h: 8 },
  ),
  panel(
    'Unpriced spans',
    'timeseries',
    [
      sql(
        `SELECT ${bucket} AS time, service, sum(unpriced) AS unpriced
FROM \${database}.span_costs_1m
WHERE $__timeFilter(minute)
GROUP BY time, service
ORDER BY time`,
        'time_series',
      ),
    ],
    { x: 0, y: 32, w: 12, h: 8 },
  ),
  panel(
    'Repricing corrections (USD)',
    'timeseries',
    [
      sql(
        `SELECT toDateTime(intDiv(toUInt32(applied_at), $__interval_s) * $__interval_s) AS time, service,
  toFloat64(sum(delta_total)) AS delta_usd
FROM \${database}.cost_corrections
WHERE $__timeFilter(applied_at)
GROUP BY time, service
ORDER BY time`,
        'time_series',
      ),
    ],
    { x: 12, y: 32, w: 12, h: 8 },
  ),
];

const budgetState = `SELECT budget_id, scope_key, sum(spend_usd) AS spend_usd, max(engaged) AS engaged, max(updated) AS updated_at
  FROM (
    SELECT delta_partition, budget_id, scope_key, argMax(toFloat64(spend), version) AS spend_usd,
      argMax(engaged, version) AS engaged, max(updated_at) AS updated
    FROM \${database}.budget_key_state
    GROUP BY delta_partition, budget_id, scope_key
  )
  GROUP BY budget_id, scope_key`;
const budgetLimits = `SELECT id AS budget_id, toFloat64OrZero(visitParamExtractString(argMax(document, version), 'limit_usd')) AS limit_usd,
    argMax(deleted, version) AS deleted
  FROM \${database}.budget_documents
  WHERE kind = 'budget'
  GROUP BY id`;
const budgetPanels = [
  panel(
    'Budget utilisation',
    'table',
    [
      sql(`SELECT budget_id, scope_key, spend_usd, limit_usd, spend_usd * 100 / greatest(limit_usd, 0.000001) AS utilisation_percent, engaged
FROM (${budgetState}) ANY LEFT JOIN (${budgetLimits}) USING budget_id
WHERE deleted = 0
ORDER BY utilisation_percent DESC
LIMIT 100`),
    ],
    { x: 0, y: 0, w: 24, h: 9 },
  ),
  panel(
    'Spend forecast to the end of the UTC day by service',
    'table',
    [
      sql(`SELECT service, toFloat64(sum(cost_total)) AS spend_today_usd,
  spend_today_usd * 86400 / greatest(toUInt32(now()) - toUInt32(toStartOfDay(now())), 60) AS forecast_end_of_day_usd
FROM \${database}.span_costs_1m
WHERE minute >= toStartOfDay(now())
GROUP BY service
ORDER BY forecast_end_of_day_usd DESC`),
    ],
    { x: 0, y: 9, w: 12, h: 8 },
  ),
  panel(
    'Throttles engaged',
    'table',
    [
      sql(`SELECT budget_id, scope_key, argMax(state, version) AS state, max(updated_at) AS since
FROM \${database}.budget_key_state
GROUP BY budget_id, scope_key
HAVING argMax(engaged, version) = 1
ORDER BY since DESC
LIMIT 100`),
    ],
    { x: 12, y: 9, w: 12, h: 8 },
  ),
];

const ts = (title, targets, grid, unit = 'short') =>
  panel(title, 'timeseries', targets, grid, { datasource: PROM, fieldConfig: { defaults: { unit }, overrides: [] } });
const pipelinePanels = [
  ts(
    'Ingest rate (spans/s)',
    [
      prom('sum by (transport) (rate(costtrace_ingest_spans_received_total[5m]))', 'received {{transport}}'),
      prom('sum(rate(costtrace_consumer_spans_out_total[5m]))', 'stored', 'B'),
    ],
    { x: 0, y: 0, w: 12, h: 8 },
  ),
  ts('Consumer lag (messages)', [prom('sum by (instance) (costtrace_consumer_lag_messages)', '{{instance}}')], {
    x: 12,
    y: 0,
    w: 12,
    h: 8,
  }),
  ts(
    'ClickHouse insert latency',
    [
      prom('histogram_quantile(0.5, sum by (le) (rate(costtrace_consumer_insert_seconds_bucket[5m])))', 'p50'),
      prom('histogram_quantile(0.99, sum by (le) (rate(costtrace_consumer_insert_seconds_bucket[5m])))', 'p99', 'B'),
    ],
    { x: 0, y: 8, w: 12, h: 8 },
    's',
  ),
  ts(
    'Dead-lettered messages/s by reason',
    [prom('sum by (reason) (rate(costtrace_consumer_dead_letter_messages_total[5m]))', '{{reason}}')],
    { x: 12, y: 8, w: 12, h: 8 },
  ),
  ts('Unpriced spans/s', [prom('sum(rate(costtrace_consumer_spans_unpriced_total[5m]))', 'unpriced')], {
    x: 0,
    y: 16,
    w: 12,
    h: 8,
  }),
  ts(
    'Webhook deliveries/s by outcome',
    [prom('sum by (outcome) (rate(costtrace_webhook_deliveries_total[5m]))', '{{outcome}}')],
    { x: 12, y: 16, w: 12, h: 8 },
  ),
  ts(
    'Pricing snapshot age',
    [
      prom('max(costtrace_pricing_snapshot_age_seconds)', 'age'),
      prom('max(costtrace_pricing_snapshot_stale)', 'stale', 'B'),
    ],
    { x: 0, y: 24, w: 12, h: 8 },
    's',
  ),
  ts(
    'Insert failures and budget hand-off failures/s',
    [
      prom('sum by (code) (rate(costtrace_consumer_insert_failures_total[5m]))', 'insert {{code}}'),
      prom('sum(rate(costtrace_consumer_budget_handoff_failures_total[5m]))', 'budget hand-off', 'B'),
    ],
    { x: 12, y: 24, w: 12, h: 8 },
  ),
];

const out = new URL('./dashboards/', import.meta.url);
const write = (name, d) => writeFileSync(new URL(name, out), `${JSON.stringify(d, null, 2)}\n`);
id = 0;
write('costtrace-spend.json', dashboard('costtrace-spend', 'costtrace: spend', costPanels, [databaseVar]));
write(
  'costtrace-budgets.json',
  dashboard('costtrace-budgets', 'costtrace: budgets and throttles', budgetPanels, [databaseVar]),
);
write('costtrace-pipeline.json', dashboard('costtrace-pipeline', 'costtrace: pipeline health', pipelinePanels));
