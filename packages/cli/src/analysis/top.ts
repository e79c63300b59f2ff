/** `costtrace top routes|commits|models|tenants|traces|spans`: the most expensive of each. */
import { MAX_QUERY_LIMIT } from '@costtrace/store';
import type { QueryDimension } from '@costtrace/store';
import { renderRows } from '../table-format.js';
import type { Cell } from '../table-format.js';
import { COMMON_FLAGS_HELP, dimensionLabel, parseCommand, pico, totals, usd } from './common-flags.js';
import type { CommonArgs } from './common-flags.js';
import { decorate, nowOf, progress, usageError } from './command-deps.js';
import type { AnalysisDeps } from './command-deps.js';
import type { ArgsResult } from '../args.js';

const SUBJECTS: Readonly<Record<string, QueryDimension | 'spans'>> = {
  routes: 'route',
  commits: 'commit',
  models: 'model',
  tenants: 'tenant',
  teams: 'team',
  services: 'service',
  features: 'feature',
  traces: 'trace_id',
  spans: 'spans',
};

export const TOP_USAGE = `costtrace top routes|commits|models|tenants|teams|services|features|traces|spans [--since 24h] [--until T] [--where dim=value]... [--limit 10] [--format table|json|csv]`;

export const TOP_HELP = `usage: ${TOP_USAGE}

The most expensive routes, commits, models, tenants, teams, services, features, traces or
single spans of a period, with their share of the period's total and cost per request.

${COMMON_FLAGS_HELP}
  (--by is not used: the subject word chooses the dimension)

examples:
  costtrace top routes --since 24h
  costtrace top commits --since 7d --where route=/v1/chat
  costtrace top spans --since 1h --limit 5 --format json`;

export interface TopArgs {
  readonly subject: QueryDimension | 'spans';
  readonly common: CommonArgs;
  readonly limit: number;
}

export function parseTopArgs(argv: readonly string[], nowSeconds: number): ArgsResult<TopArgs> {
  const parsed = parseCommand(argv, {}, nowSeconds);
  if (!parsed.ok) return parsed;
  const [word, ...rest] = parsed.value.positionals;
  const subject = word === undefined ? undefined : SUBJECTS[word];
  if (subject === undefined)
    return { ok: false, message: `say what to rank: one of ${Object.keys(SUBJECTS).join(', ')}` };
  if (rest.length > 0) return { ok: false, message: `unexpected argument ${JSON.stringify(rest[0])}` };
  if (parsed.value.common.by.length > 0) return { ok: false, message: '--by is not used by top: name the subject' };
  return { ok: true, value: { subject, common: parsed.value.common, limit: parsed.value.common.limit ?? 10 } };
}

export async function runTop(argv: readonly string[], deps: AnalysisDeps): Promise<number> {
  const args = parseTopArgs(argv, nowOf(deps));
  if (!args.ok) return usageError('top', args.message, TOP_USAGE, deps.output);
  const { common, subject, limit } = args.value;
  progress(deps, 'querying…');
  const all = totals(await deps.source.queryCosts({ ...common.query, groupBy: [], limit: 1 })).cost;
  const share = (cost: bigint): string | null =>
    all === 0n ? null : (Number((cost * 10_000n) / all) / 100).toFixed(2);
  let columns: string[];
  let rows: Cell[][];
  if (subject === 'spans') {
    const spans = await deps.source.topSpans({
      filters: common.query.filters,
      since: common.since,
      until: common.until,
      limit,
    });
    columns = [
      'trace_id',
      'span_id',
      'span_name',
      'service',
      'route',
      'commit',
      'model',
      'tenant',
      'start',
      'cost',
      'tokens',
      'share_pct',
    ];
    rows = spans.map((s) => [
      s.trace_id,
      s.span_id,
      s.span_name,
      s.service,
      s.route,
      s.commit,
      s.model,
      s.tenant,
      new Date(s.startTime * 1000).toISOString(),
      s.cost,
      s.tokens,
      share(pico(s.cost)),
    ]);
  } else {
    const result = await deps.source.queryCosts({
      ...common.query,
      groupBy: [subject],
      orderBy: 'cost',
      limit: Math.min(limit, MAX_QUERY_LIMIT),
    });
    columns = [subject, 'cost', 'share_pct', 'requests', 'tokens', 'cost_per_request', 'cost_per_1m_tokens'];
    rows = result.map((r) => [
      dimensionLabel(r, [subject]),
      usd(pico(r.cost)),
      share(pico(r.cost)),
      r.requests,
      r.tokens,
      r.costPerRequest,
      r.costPer1MTokens,
    ]);
  }
  deps.output.out(decorate(deps, common.format, renderRows(common.format, columns, rows)));
  return 0;
}
