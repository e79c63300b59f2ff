import { identifier, stringLiteral, uintLiteral } from '../clickhouse/sql-literals.js';

/**
 * The raw ClickHouse SQL docs/aggregator.md shows for the three everyday questions. They run unchanged
 * on ClickHouse 18.16 and on current releases (the chDB comparison test runs them on both).
 */

/** Cost by commit for one service since a deploy (unix seconds), most expensive first. */
export function costByCommitSinceDeploySql(db: string, service: string, deployedAtUnixSeconds: number): string {
  return `SELECT commit, toString(sum(cost_total)) AS cost, count() AS spans, sum(is_request) AS requests
FROM ${identifier(db)}.span_costs
WHERE service = ${stringLiteral(service)} AND start_time >= toDateTime(${uintLiteral(deployedAtUnixSeconds)}, 'UTC')
GROUP BY commit
ORDER BY sum(cost_total) DESC, commit`;
}

/** Cost per 1,000 requests by route over the last `hours` hours (from the per-minute rollup). */
export function costPer1kRequestsByRouteSql(db: string, hours: number): string {
  return `SELECT route,
       toString(sum(cost_total)) AS cost,
       sum(requests) AS request_count,
       toString(sum(cost_total) * 1000 / sum(requests)) AS cost_per_1k_requests
FROM ${identifier(db)}.span_costs_1m
WHERE minute >= now() - ${uintLiteral(hours * 3600)}
GROUP BY route
HAVING sum(requests) > 0
ORDER BY sum(cost_total) * 1000 / sum(requests) DESC, route`;
}

/** The 20 most expensive traces of today (UTC). */
export function topTracesTodaySql(db: string): string {
  return `SELECT trace_id, any(service) AS service, toString(sum(cost_total)) AS cost, count() AS spans,
       min(start_time) AS started
FROM ${identifier(db)}.span_costs
WHERE start_time >= toDateTime(today(), 'UTC')
GROUP BY trace_id
ORDER BY sum(cost_total) DESC, trace_id
LIMIT 20`;
}
