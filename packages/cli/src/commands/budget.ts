import { ApiError } from '@costtrace/client';
import type { AggregatorClient } from '@costtrace/client';
import { parseLine } from '../args.js';
import type { OptionSpecs } from '../args.js';

/**
 * `costtrace budget set|list|get|delete|status`, `costtrace budget alerts` and `costtrace throttles`:
 * a pure argument parser and command functions over the aggregator API's client, so they are
 * tested without spawning a process. The `costtrace` bin dispatches `budget …` and `throttles` here.
 */

export type BudgetCommand =
  | { readonly name: 'set'; readonly document: Record<string, unknown> }
  | { readonly name: 'list' }
  | { readonly name: 'get'; readonly id: string }
  | { readonly name: 'delete'; readonly id: string }
  | { readonly name: 'status'; readonly id: string; readonly limit: number }
  | {
      readonly name: 'alerts';
      readonly budget?: string | undefined;
      readonly type?: string | undefined;
      readonly limit: number;
    }
  | { readonly name: 'throttles' };

export interface BudgetArgs {
  readonly command: BudgetCommand;
  readonly json: boolean;
}

export type BudgetParseResult =
  { readonly ok: true; readonly args: BudgetArgs } | { readonly ok: false; readonly error: string };

export const BUDGET_USAGE = `usage:
  costtrace budget set --id ID --window 1h|day|week|month --limit USD [--name N] [--scope dim=pattern]...
                       [--per dim]... [--action alert|reject|degrade] [--thresholds 80,90,100]
                       [--throttle-at PCT] [--release-below PCT] [--release-for 1m] [--webhook ID]...
                       [--time-zone Europe/Berlin]
  costtrace budget set --json-document '{"id":…}'
  costtrace budget list | get ID | delete ID | status ID [--limit N]
  costtrace budget alerts [--budget ID] [--type TYPE] [--limit N]
  costtrace throttles
options: --json (raw JSON output), --url URL (aggregator API; default $COSTTRACE_API_URL or http://127.0.0.1:8080)`;

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const BUDGET_OPTIONS: OptionSpecs = {
  json: { type: 'boolean' },
  url: { type: 'string' },
  limit: { type: 'string' },
  budget: { type: 'string' },
  type: { type: 'string' },
  'json-document': { type: 'string' },
  id: { type: 'string' },
  window: { type: 'string' },
  name: { type: 'string' },
  scope: { type: 'string', multiple: true },
  per: { type: 'string', multiple: true },
  action: { type: 'string' },
  'time-zone': { type: 'string' },
  webhook: { type: 'string', multiple: true },
  thresholds: { type: 'string' },
  'throttle-at': { type: 'string' },
  'release-below': { type: 'string' },
  'release-for': { type: 'string' },
};

/** Parses argv after the program name (e.g. ["budget", "list"]). Pure. */
export function parseBudgetArgs(argv: readonly string[]): BudgetParseResult & { url?: string } {
  const fail = (error: string): BudgetParseResult => ({ ok: false, error: `${error}\n${BUDGET_USAGE}` });
  const line = parseLine(argv, BUDGET_OPTIONS, { max: 3 });
  if (!line.ok) return fail(line.message);
  const positional = line.value.positionals;
  const options = new Map(line.value.options);
  const json = options.delete('json');
  const url = options.get('url')?.[0];
  options.delete('url');
  const one = (name: string): string | undefined => options.get(name)?.at(-1);
  const limit = (): number | string => {
    const raw = one('limit');
    if (raw === undefined) return 50;
    const n = Number(raw);
    return Number.isInteger(n) && n >= 1 && n <= 1000 ? n : '--limit must be an integer from 1 to 1000';
  };
  const known = (allowed: string[]): string | undefined => [...options.keys()].find((k) => !allowed.includes(k));
  const [group, sub, arg] = positional;
  const done = (command: BudgetCommand, allowed: string[] = []): BudgetParseResult & { url?: string } => {
    const unknown = known(allowed);
    if (unknown !== undefined) return fail(`unknown option --${unknown}`);
    return { ok: true, args: { command, json }, ...(url === undefined ? {} : { url }) };
  };
  if (group === 'throttles')
    return sub === undefined ? done({ name: 'throttles' }) : fail('throttles takes no arguments');
  if (group !== 'budget') return fail('expected `budget` or `throttles`');
  switch (sub) {
    case 'list':
      return arg === undefined ? done({ name: 'list' }) : fail('list takes no arguments');
    case 'get':
    case 'delete':
      if (arg === undefined || !ID.test(arg)) return fail(`${sub} needs a budget id`);
      return done({ name: sub, id: arg });
    case 'status': {
      if (arg === undefined || !ID.test(arg)) return fail('status needs a budget id');
      const n = limit();
      return typeof n === 'string' ? fail(n) : done({ name: 'status', id: arg, limit: n }, ['limit']);
    }
    case 'alerts': {
      const n = limit();
      if (typeof n === 'string') return fail(n);
      return done({ name: 'alerts', budget: one('budget'), type: one('type'), limit: n }, ['budget', 'type', 'limit']);
    }
    case 'set': {
      if (arg !== undefined) return fail('set takes options, not arguments');
      const raw = one('json-document');
      if (raw !== undefined) {
        try {
          const document = JSON.parse(raw) as unknown;
          if (typeof document !== 'object' || document === null || Array.isArray(document))
            return fail('--json-document must be a JSON object');
          return done({ name: 'set', document: document as Record<string, unknown> }, ['json-document']);
        } catch {
          return fail('--json-document is not JSON');
        }
      }
      const id = one('id');
      if (id === undefined || !ID.test(id)) return fail('set needs --id');
      const document: Record<string, unknown> = { id };
      const window = one('window');
      const limitUsd = one('limit');
      if (window === undefined) return fail('set needs --window (e.g. 1h, 30d, day, week, month)');
      if (limitUsd === undefined) return fail('set needs --limit in USD (e.g. 50 or 0.25)');
      document.window = window;
      document.limit_usd = limitUsd;
      if (one('name') !== undefined) document.name = one('name');
      const scope: Record<string, string> = {};
      for (const s of options.get('scope') ?? []) {
        const eq = s.indexOf('=');
        if (eq <= 0) return fail(`--scope ${s}: use dimension=pattern, e.g. route=/v1/*`);
        scope[s.slice(0, eq)] = s.slice(eq + 1);
      }
      if (Object.keys(scope).length > 0) document.scope = scope;
      if (options.has('per')) document.per = options.get('per');
      if (one('action') !== undefined) document.action = one('action');
      if (one('time-zone') !== undefined) document.time_zone = one('time-zone');
      if (options.has('webhook')) document.webhooks = options.get('webhook');
      const num = (name: string): number | string | undefined => {
        const v = one(name);
        if (v === undefined) return undefined;
        const n = Number(v);
        return Number.isFinite(n) ? n : `--${name} must be a number`;
      };
      const thresholds = one('thresholds');
      if (thresholds !== undefined) {
        const list = thresholds.split(',').map(Number);
        if (list.some((n) => !Number.isFinite(n))) return fail('--thresholds must be numbers separated by commas');
        document.thresholds = list;
      }
      const at = num('throttle-at');
      if (typeof at === 'string') return fail(at);
      if (at !== undefined) document.throttle_at_percent = at;
      const below = num('release-below');
      if (typeof below === 'string') return fail(below);
      const releaseFor = one('release-for');
      if (below !== undefined || releaseFor !== undefined) {
        document.release = {
          ...(below === undefined ? {} : { below_percent: below }),
          ...(releaseFor === undefined ? {} : { for: releaseFor }),
        };
      }
      return done({ name: 'set', document }, [
        'id',
        'window',
        'limit',
        'name',
        'scope',
        'per',
        'action',
        'time-zone',
        'webhook',
        'thresholds',
        'throttle-at',
        'release-below',
        'release-for',
      ]);
    }
    default:
      return fail(`unknown budget command ${sub ?? '(none)'}`);
  }
}

/** The calls the budget commands make. */
export type BudgetCommandApi = Pick<
  AggregatorClient,
  'putBudget' | 'listBudgets' | 'getBudget' | 'deleteBudget' | 'budgetStatus' | 'events' | 'throttles'
>;

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A value from a JSON response as table text. */
function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}

/** An API failure as the command's answer: 3 for "not found", 1 otherwise; other errors propagate. */
function apiError(err: unknown): CommandResult {
  if (!(err instanceof ApiError)) throw err;
  if (err.code !== 'HTTP_STATUS') return { exitCode: 1, stdout: '', stderr: `error: ${err.message}\n` };
  return {
    exitCode: err.status === 404 ? 3 : 1,
    stdout: '',
    stderr: `error ${err.status}: ${err.serverMessage ?? JSON.stringify(err.body)}\n`,
  };
}

/** Runs a budget command against the API. Exit codes: 0 ok, 1 failed, 2 usage, 3 not found. */
export async function runBudgetCommand(argv: readonly string[], api: BudgetCommandApi): Promise<CommandResult> {
  const parsed = parseBudgetArgs(argv);
  if (!parsed.ok) return { exitCode: 2, stdout: '', stderr: `${parsed.error}\n` };
  try {
    return await runParsed(parsed.args, api);
  } catch (err) {
    return apiError(err);
  }
}

async function runParsed({ command, json }: BudgetArgs, api: BudgetCommandApi): Promise<CommandResult> {
  const out = (value: unknown, text: () => string): CommandResult => ({
    exitCode: 0,
    stdout: json ? `${JSON.stringify(value, null, 2)}\n` : text(),
    stderr: '',
  });
  switch (command.name) {
    case 'set': {
      const id = text(command.document.id);
      if (!ID.test(id)) return { exitCode: 2, stdout: '', stderr: `set needs a budget id ("id")\n${BUDGET_USAGE}\n` };
      const res = await api.putBudget(id, command.document);
      const { created, ...body } = res;
      return out(body, () => `budget ${id} ${created ? 'created' : 'updated'}\n`);
    }
    case 'list': {
      const res = await api.listBudgets();
      return out(res, () =>
        table([
          ['ID', 'WINDOW', 'LIMIT_USD', 'ACTION', 'PER', 'SCOPE'],
          ...res.budgets.map((b) => [
            b.id,
            b.window + (typeof b.time_zone === 'string' && b.time_zone !== 'UTC' ? ` (${b.time_zone})` : ''),
            b.limit_usd,
            text(b.action),
            (b.per ?? []).join(',') || '-',
            Object.entries(b.scope ?? {})
              .map(([k, v]) => `${k}=${v}`)
              .join(' ') || '*',
          ]),
        ]),
      );
    }
    case 'get':
      return { exitCode: 0, stdout: `${JSON.stringify(await api.getBudget(command.id), null, 2)}\n`, stderr: '' };
    case 'delete':
      await api.deleteBudget(command.id);
      return out({ deleted: command.id }, () => `budget ${command.id} deleted\n`);
    case 'status': {
      const body = await api.budgetStatus(command.id, { limit: command.limit });
      return out(body, () => {
        const rows = body.keys.map((k) => [
          k.scope_key,
          k.spend_usd,
          k.limit_usd,
          `${k.percent}%`,
          k.throttle.engaged ? `engaged until ~${k.throttle.expected_until ?? '?'}` : '-',
          k.forecast?.projected_usd ?? '-',
        ]);
        const note =
          body.keys_over_cap > 0 ? `${body.keys_over_cap} key(s) over the budget's key cap were not tracked\n` : '';
        return (
          table([['KEY', 'SPEND_USD', 'LIMIT_USD', 'PERCENT', 'THROTTLE', 'FORECAST_USD'], ...rows]) +
          `${body.key_count} key(s)\n` +
          note
        );
      });
    }
    case 'alerts': {
      const body = await api.events({ limit: command.limit, budget: command.budget, type: command.type });
      return out(body, () =>
        table([
          ['TIME', 'TYPE', 'SCOPE', 'SPEND_USD', 'LIMIT_USD', 'PERCENT', 'ID'],
          ...body.events.map((e) => {
            const scope = (e.data.scope as { key?: string } | undefined)?.key ?? '';
            return [
              e.timestamp,
              e.type,
              scope,
              text(e.data.spend_usd ?? e.data.observed_usd ?? ''),
              text(e.data.limit_usd ?? e.data.baseline_usd ?? ''),
              e.data.percent === undefined ? '' : `${text(e.data.percent)}%`,
              e.id,
            ];
          }),
        ]),
      );
    }
    case 'throttles': {
      const body = await api.throttles();
      return out(body, () =>
        body.throttles.length === 0
          ? 'no active throttles\n'
          : table([
              ['KEY', 'ACTION', 'SPEND_USD', 'LIMIT_USD', 'PERCENT', 'SINCE', 'EXPECTED_UNTIL'],
              ...body.throttles.map((t) => [
                t.scope_key,
                t.action,
                t.spend_usd,
                t.limit_usd,
                `${t.percent}%`,
                t.since,
                t.expected_until ?? '-',
              ]),
            ]),
      );
    }
  }
}
