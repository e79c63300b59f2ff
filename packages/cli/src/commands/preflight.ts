import { parseArgs as tokenize } from 'node:util';
import { ApiError, PREFLIGHT_ID_PATTERN, PREFLIGHT_STATUSES } from '@costtrace/client';
import type {
  AggregatorClient,
  PreflightAction,
  PreflightPlan,
  PreflightRecord,
  PreflightRequest,
  PreflightStatus,
} from '@costtrace/client';
import { parseLine } from '../args.js';
import type { OptionSpecs } from '../args.js';
import { renderRows } from '../table-format.js';
import type { Cell } from '../table-format.js';
import type { CommandResult } from './budget.js';

/**
 * `costtrace preflight request|approve|reject|release|show|list`: decisions before the spend,
 * through the aggregator's /v1/preflight API. A pure argument parser (`parsePreflightArgs`) and
 * one command function over the client (`runPreflightCommand`), tested without a process. The
 * exit code of `request` is the decision, so `costtrace preflight request … && ./train.sh` runs
 * the job only when it is allowed (and its amount reserved).
 */

/** Exit codes: the CLI's (0 ok, 1 failed, 2 usage, 3 not found) plus the two refusals of `request`. */
export const PREFLIGHT_EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, needsApproval: 4, denied: 5 } as const;

export const PREFLIGHT_USAGE = `costtrace preflight request --by NAME [--job ID] [--job-kind K] [--dim dim=value]...
         ((--gpu TYPE --count N --hours H [--gpu-provider P] [--pricing-model M]
           | --model provider/model --input-tokens I --output-tokens O [--cached-tokens C] [--requests R] [--tier T])...
          | --amount USD) [--description TEXT] [--reservation-hours H] [--wait DURATION]
       costtrace preflight approve|reject|release ID --by NAME [--note TEXT]
       costtrace preflight show ID
       costtrace preflight list [--status S] [--job ID] [--limit N]
       [--format table|json] [--api-url URL]`;

export const PREFLIGHT_HELP = `usage: ${PREFLIGHT_USAGE}

Decisions before the spend: the aggregator prices planned work with the live price snapshot and
answers allow (the amount is reserved against every budget the work lands in), needs_approval
(pending until someone approves or rejects it) or deny, from the preflight policy rules and the
budgets' remaining amounts (limit − spend − other reservations). The job's spans, carrying
costtrace.job.id = --job, settle the reservation; it expires after --reservation-hours (default
and maximum from the policy).
  request    --by who asks (a person or a pipeline). What the work uses, in groups:
             --gpu TYPE --count N --hours H (exact decimal hours) [--gpu-provider aws|internal|…]
             [--pricing-model on_demand|spot|reserved|committed|internal], and/or
             --model provider/model --input-tokens I --output-tokens O [--cached-tokens C (part
             of I)] [--requests R (calls the tokens are spread over)] [--tier standard|batch|
             priority|flex]; a flag belongs to the --gpu or --model given last before it, and
             each --gpu or --model starts a new group. Or --amount USD, priced elsewhere (alone).
             --dim team=ml (repeatable) gives the budget dimensions the work's spans will carry.
             --wait 4h: when the answer is needs_approval, poll until it is approved or
             rejected (or the time is up) and exit as that decision
  approve    a pending preflight (--by must be an approver of the matching rules); reserves it
  reject     a pending preflight
  release    frees a reservation (or withdraws a pending request) before the job settles it
  show       one preflight: decision, amount, priced lines, reasons, budgets, reservation
  list       newest first; --status pending|reserved|settled|expired|released|denied|rejected,
             --job ID, --limit 1-1000
The aggregator API is --api-url, else COSTTRACE_API_URL, else http://127.0.0.1:8080.
Policy rules, approvers and reservations: docs/budgets-and-webhooks.md#preflight.

Exit codes: 0 ok (request: allowed, the amount reserved), 1 failed (aggregator unreachable, a
refused action: 403 not an approver, 409 not in a state that allows it), 2 usage error (also a
plan the aggregator refuses, 400), 3 no such preflight, 4 request: needs approval (pending),
5 request: denied (or, with --wait, rejected or withdrawn).

examples:
  costtrace preflight request --by ci --job ft-42 --job-kind fine_tuning --dim team=ml \\
    --gpu h100-80gb --count 8 --hours 12 && ./train.sh
  costtrace preflight request --by ci --job eval-7 --job-kind evaluation \\
    --model openai/gpt-4o --input-tokens 40000000 --output-tokens 2000000 --requests 20000 --tier batch \\
    --gpu l4 --count 2 --hours 6
  costtrace preflight request --by alice --amount 2500 --dim team=research --description "vendor run" --wait 8h
  costtrace preflight list --status pending
  costtrace preflight approve pf_01jf3k7m2q8r4t6v9w0x1y2z3a --by alice --note "Q4 budget"
  costtrace preflight release pf_01jf3k7m2q8r4t6v9w0x1y2z3a --by ci --note "job cancelled"`;

export type PreflightCommand =
  | { readonly name: 'request'; readonly request: PreflightRequest; readonly waitMs: number | undefined }
  | { readonly name: 'approve' | 'reject' | 'release'; readonly id: string; readonly action: PreflightAction }
  | { readonly name: 'show'; readonly id: string }
  | {
      readonly name: 'list';
      readonly status: PreflightStatus | undefined;
      readonly jobId: string | undefined;
      readonly limit: number | undefined;
    };

export interface PreflightArgs {
  readonly command: PreflightCommand;
  readonly format: 'table' | 'json';
  /** --api-url; undefined: COSTTRACE_API_URL, else the default. */
  readonly apiUrl: string | undefined;
}

export type PreflightParseResult =
  { readonly ok: true; readonly value: PreflightArgs } | { readonly ok: false; readonly message: string };

/** As the policy's approvers are written: 1-128 characters, no spaces. */
const NAME = /^[^\s\p{Cc}]{1,128}$/u;
const DECIMAL = /^\d+(\.\d+)?$/;
const WHOLE = /^\d{1,15}$/;
const DURATION = /^(\d{1,6})(s|m|h|d)$/;
const DURATION_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const COMMON: OptionSpecs = {
  format: { type: 'string', choices: ['table', 'json'] },
  'api-url': { type: 'string' },
};

const GPU_FLAGS = ['count', 'hours', 'gpu-provider', 'pricing-model'] as const;
const MODEL_FLAGS = ['input-tokens', 'output-tokens', 'cached-tokens', 'requests', 'tier'] as const;

const SPECS: Readonly<Record<PreflightCommand['name'], OptionSpecs>> = {
  request: {
    ...COMMON,
    by: { type: 'string' },
    job: { type: 'string' },
    'job-kind': { type: 'string' },
    dim: { type: 'string', multiple: true },
    gpu: { type: 'string', multiple: true },
    ...Object.fromEntries(GPU_FLAGS.map((f) => [f, { type: 'string', multiple: true }])),
    model: { type: 'string', multiple: true },
    ...Object.fromEntries(MODEL_FLAGS.map((f) => [f, { type: 'string', multiple: true }])),
    amount: { type: 'string' },
    description: { type: 'string' },
    'reservation-hours': { type: 'string' },
    wait: { type: 'string' },
  },
  approve: { ...COMMON, by: { type: 'string' }, note: { type: 'string' } },
  reject: { ...COMMON, by: { type: 'string' }, note: { type: 'string' } },
  release: { ...COMMON, by: { type: 'string' }, note: { type: 'string' } },
  show: COMMON,
  list: {
    ...COMMON,
    status: { type: 'string', choices: PREFLIGHT_STATUSES },
    job: { type: 'string' },
    limit: { type: 'string' },
  },
};

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };
const failure = (message: string): { readonly ok: false; readonly message: string } => ({ ok: false, message });

/** Parses argv after `preflight` (e.g. ["request", "--by", "ci", …]). Pure. */
export function parsePreflightArgs(argv: readonly string[]): PreflightParseResult {
  const [sub, ...rest] = argv;
  if (sub === undefined)
    return failure('preflight needs a sub-command: request, approve, reject, release, show or list');
  if (!Object.hasOwn(SPECS, sub)) {
    return failure(
      `unknown preflight sub-command ${JSON.stringify(sub)}: use request, approve, reject, release, show or list`,
    );
  }
  const name = sub as PreflightCommand['name'];
  const specs = SPECS[name];
  const takesId = name !== 'request' && name !== 'list';
  const line = parseLine(rest, specs, { max: takesId ? 1 : 0 });
  if (!line.ok) return failure(`preflight ${name}: ${line.message}`);
  const options = line.value.options;
  const one = (flag: string): string | undefined => options.get(flag)?.[0];
  const format = (one('format') ?? 'table') as 'table' | 'json';
  const apiUrl = one('api-url');
  const done = (command: PreflightCommand): PreflightParseResult => ({ ok: true, value: { command, format, apiUrl } });

  let id = '';
  if (takesId) {
    const word = line.value.positionals[0];
    if (word === undefined)
      return failure(`preflight ${name} needs the preflight id (pf_…, as request and list show it)`);
    if (!PREFLIGHT_ID_PATTERN.test(word)) {
      return failure(
        `preflight ${name}: ${JSON.stringify(word)} is not a preflight id (pf_ and 26 lower-case letters or digits)`,
      );
    }
    id = word;
  }
  const by = (): Parsed<string> => {
    const value = one('by');
    if (value === undefined)
      return failure(`preflight ${name} needs --by NAME (who ${name === 'request' ? 'asks' : 'decides'})`);
    if (!NAME.test(value))
      return failure(`--by ${JSON.stringify(value)}: use a name of 1-128 characters without spaces`);
    return { ok: true, value };
  };

  switch (name) {
    case 'show':
      return done({ name, id });
    case 'approve':
    case 'reject':
    case 'release': {
      const who = by();
      if (!who.ok) return who;
      const note = one('note');
      return done({ name, id, action: { by: who.value, ...(note === undefined ? {} : { note }) } });
    }
    case 'list': {
      const raw = one('limit');
      let limit: number | undefined;
      if (raw !== undefined) {
        limit = WHOLE.test(raw) ? Number(raw) : NaN;
        if (!(limit >= 1 && limit <= 1000)) return failure(`--limit must be a whole number from 1 to 1000, got ${raw}`);
      }
      return done({ name, status: one('status') as PreflightStatus | undefined, jobId: one('job'), limit });
    }
    case 'request': {
      const who = by();
      if (!who.ok) return who;
      const plan = parsePlan(rest, specs, one('amount'));
      if (!plan.ok) return plan;
      const dimensions: Record<string, string> = {};
      for (const pair of options.get('dim') ?? []) {
        const eq = pair.indexOf('=');
        if (eq <= 0) return failure(`--dim ${JSON.stringify(pair)}: use dimension=value, e.g. --dim team=ml`);
        const dim = pair.slice(0, eq);
        if (Object.hasOwn(dimensions, dim)) return failure(`--dim ${dim} given twice`);
        dimensions[dim] = pair.slice(eq + 1);
      }
      let reservationHours: number | undefined;
      const hoursRaw = one('reservation-hours');
      if (hoursRaw !== undefined) {
        reservationHours = WHOLE.test(hoursRaw) ? Number(hoursRaw) : 0;
        if (reservationHours < 1) return failure(`--reservation-hours must be whole hours ≥ 1, got ${hoursRaw}`);
      }
      let waitMs: number | undefined;
      const waitRaw = one('wait');
      if (waitRaw !== undefined) {
        const match = DURATION.exec(waitRaw);
        if (match === null || Number(match[1]) === 0) {
          return failure(`--wait ${JSON.stringify(waitRaw)}: use a duration such as 90s, 30m, 4h or 2d`);
        }
        waitMs = Number(match[1]) * DURATION_MS[match[2] as keyof typeof DURATION_MS];
      }
      const job = one('job');
      const jobKind = one('job-kind');
      const description = one('description');
      const request: PreflightRequest = {
        ...(job === undefined ? {} : { job_id: job }),
        ...(jobKind === undefined ? {} : { job_kind: jobKind }),
        ...(Object.keys(dimensions).length === 0 ? {} : { dimensions }),
        plan: plan.value,
        requested_by: who.value,
        ...(description === undefined ? {} : { description }),
        ...(reservationHours === undefined ? {} : { reservation_hours: reservationHours }),
      };
      return done({ name, request, waitMs });
    }
  }
}

type GpuGroup = NonNullable<PreflightPlan['gpus']>[number];
type ModelGroup = NonNullable<PreflightPlan['models']>[number];

/**
 * The plan from the request's flags, in the order given: each --gpu and --model opens a group and
 * the flags after it fill it, so several GPU and model groups can share one line.
 */
function parsePlan(argv: readonly string[], specs: OptionSpecs, amount: string | undefined): Parsed<PreflightPlan> {
  const { tokens } = tokenize({
    args: [...argv],
    options: Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { type: spec.type }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const gpus: { type: string; values: Map<string, string> }[] = [];
  const models: { name: string; values: Map<string, string> }[] = [];
  for (const token of tokens) {
    if (token.kind !== 'option' || token.value === undefined) continue;
    const { name, value } = token;
    if (name === 'gpu') {
      if (value === '') return failure('--gpu needs a GPU type, e.g. --gpu h100-80gb');
      gpus.push({ type: value, values: new Map() });
      continue;
    }
    if (name === 'model') {
      models.push({ name: value, values: new Map() });
      continue;
    }
    const gpuFlag = (GPU_FLAGS as readonly string[]).includes(name);
    const modelFlag = (MODEL_FLAGS as readonly string[]).includes(name);
    if (!gpuFlag && !modelFlag) continue;
    const group = gpuFlag ? gpus.at(-1) : models.at(-1);
    const opener = gpuFlag ? '--gpu TYPE' : '--model provider/model';
    if (group === undefined) return failure(`--${name} belongs to a ${opener} group: give it after ${opener}`);
    const owner = 'type' in group ? `--gpu ${group.type}` : `--model ${group.name}`;
    if (group.values.has(name)) {
      return failure(`--${name} given twice for ${owner}; start another group with ${opener.split(' ')[0]}`);
    }
    group.values.set(name, value);
  }
  if (amount !== undefined) {
    if (gpus.length > 0 || models.length > 0) {
      return failure('--amount states the whole amount: give it without --gpu or --model groups');
    }
    if (!DECIMAL.test(amount))
      return failure(`--amount ${JSON.stringify(amount)}: use a decimal USD amount, e.g. 2500 or 12.75`);
    return { ok: true, value: { amount_usd: amount } };
  }
  if (gpus.length === 0 && models.length === 0) {
    return failure(
      'preflight request needs what the work uses: --gpu TYPE --count N --hours H, ' +
        '--model provider/model --input-tokens I --output-tokens O, or --amount USD',
    );
  }
  const gpuGroups: GpuGroup[] = [];
  for (const { type, values } of gpus) {
    const owner = `--gpu ${type}`;
    const count = whole(values.get('count'), '--count', owner, 1);
    if (!count.ok) return count;
    const hours = values.get('hours');
    if (hours === undefined) return failure(`${owner} needs --hours H (exact decimal hours, e.g. 12 or 0.5)`);
    if (!DECIMAL.test(hours) || !/[1-9]/.test(hours)) {
      return failure(`--hours of ${owner} must be a decimal number of hours above 0, e.g. 12 or 0.5; got ${hours}`);
    }
    const provider = values.get('gpu-provider');
    const pricingModel = values.get('pricing-model');
    gpuGroups.push({
      type,
      count: count.value,
      hours,
      ...(provider === undefined ? {} : { provider }),
      ...(pricingModel === undefined ? {} : { pricing_model: pricingModel }),
    });
  }
  const modelGroups: ModelGroup[] = [];
  for (const { name, values } of models) {
    const owner = `--model ${name}`;
    const slash = name.indexOf('/');
    if (slash <= 0 || slash === name.length - 1) {
      return failure(`--model ${JSON.stringify(name)}: use provider/model, e.g. openai/gpt-4o`);
    }
    const input = whole(values.get('input-tokens'), '--input-tokens', owner, 0);
    if (!input.ok) return input;
    const output = whole(values.get('output-tokens'), '--output-tokens', owner, 0);
    if (!output.ok) return output;
    const cachedRaw = values.get('cached-tokens');
    const cached = cachedRaw === undefined ? undefined : whole(cachedRaw, '--cached-tokens', owner, 0);
    if (cached !== undefined && !cached.ok) return cached;
    if (cached !== undefined && cached.value > input.value) {
      return failure(`--cached-tokens of ${owner} are part of --input-tokens: at most ${input.value}`);
    }
    const requestsRaw = values.get('requests');
    const requests = requestsRaw === undefined ? undefined : whole(requestsRaw, '--requests', owner, 1);
    if (requests !== undefined && !requests.ok) return requests;
    const tier = values.get('tier');
    modelGroups.push({
      provider: name.slice(0, slash),
      model: name.slice(slash + 1),
      input_tokens: input.value,
      output_tokens: output.value,
      ...(cached === undefined ? {} : { cached_input_tokens: cached.value }),
      ...(requests === undefined ? {} : { requests: requests.value }),
      ...(tier === undefined ? {} : { service_tier: tier }),
    });
  }
  return {
    ok: true,
    value: {
      ...(gpuGroups.length === 0 ? {} : { gpus: gpuGroups }),
      ...(modelGroups.length === 0 ? {} : { models: modelGroups }),
    },
  };
}

/** A whole number ≥ min from `flag` of the group `owner` (e.g. "--count", "--gpu h100-80gb"). */
function whole(raw: string | undefined, flag: string, owner: string, min: number): Parsed<number> {
  if (raw === undefined) return failure(`${owner} needs ${flag} N`);
  const n = WHOLE.test(raw) ? Number(raw) : NaN;
  if (!(n >= min) || !Number.isSafeInteger(n)) {
    return failure(`${flag} of ${owner} must be a whole number ≥ ${min}, got ${raw}`);
  }
  return { ok: true, value: n };
}

/** The calls the preflight commands make. */
export type PreflightCommandApi = Pick<
  AggregatorClient,
  'preflight' | 'getPreflight' | 'listPreflights' | 'approvePreflight' | 'rejectPreflight' | 'releasePreflight'
>;

export interface PreflightCommandDeps {
  /** The client for the aggregator at `apiUrl` (--api-url; undefined: the environment or the default). */
  readonly client: (apiUrl: string | undefined) => PreflightCommandApi;
  /** For --wait; default a timer. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** For --wait; default Date.now. */
  readonly now?: (() => number) | undefined;
  /** --wait polls this often (default 15 s). */
  readonly pollIntervalMs?: number | undefined;
}

/**
 * The exit code of the record `request` answered (after --wait, as it then stands): 0 when the
 * work may run (reserved; settled), 4 while it waits for approval, 5 when it may not (denied,
 * rejected, or withdrawn and expired while waiting).
 */
export function preflightExitCode(record: PreflightRecord): number {
  if (record.status === 'reserved' || record.status === 'settled') return PREFLIGHT_EXIT.ok;
  if (record.status === 'pending') return PREFLIGHT_EXIT.needsApproval;
  return PREFLIGHT_EXIT.denied;
}

/** Runs `costtrace preflight …` (argv after `preflight`). Exit codes: PREFLIGHT_EXIT. */
export async function runPreflightCommand(argv: readonly string[], deps: PreflightCommandDeps): Promise<CommandResult> {
  const parsed = parsePreflightArgs(argv);
  if (!parsed.ok) {
    return { exitCode: PREFLIGHT_EXIT.usage, stdout: '', stderr: `${parsed.message}\nusage: ${PREFLIGHT_USAGE}\n` };
  }
  let api: PreflightCommandApi;
  try {
    api = deps.client(parsed.value.apiUrl);
  } catch (err) {
    if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
    return { exitCode: PREFLIGHT_EXIT.usage, stdout: '', stderr: `preflight: --api-url: ${err.message}\n` };
  }
  try {
    return await runParsed(parsed.value, api, deps);
  } catch (err) {
    return apiFailure(err, parsed.value.command);
  }
}

async function runParsed(
  { command, format }: PreflightArgs,
  api: PreflightCommandApi,
  deps: PreflightCommandDeps,
): Promise<CommandResult> {
  const answer = (value: unknown, exitCode: number, table: () => string): CommandResult => ({
    exitCode,
    stdout: format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : table(),
    stderr: '',
  });
  switch (command.name) {
    case 'request': {
      let record = await api.preflight(command.request);
      let waited = '';
      if (command.waitMs !== undefined && record.status === 'pending') {
        const now = deps.now ?? Date.now;
        const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
        const deadline = now() + command.waitMs;
        while (record.status === 'pending' && now() < deadline) {
          await sleep(Math.min(deps.pollIntervalMs ?? 15_000, Math.max(0, deadline - now())));
          record = await api.getPreflight(record.id);
        }
        waited = record.status === 'pending' ? `still pending after --wait ${formatWait(command.waitMs)}\n` : '';
      }
      return answer(record, preflightExitCode(record), () => renderRecord(record) + waited);
    }
    case 'show': {
      const record = await api.getPreflight(command.id);
      return answer(record, PREFLIGHT_EXIT.ok, () => renderRecord(record));
    }
    case 'approve':
    case 'reject':
    case 'release': {
      const call =
        command.name === 'approve'
          ? api.approvePreflight.bind(api)
          : command.name === 'reject'
            ? api.rejectPreflight.bind(api)
            : api.releasePreflight.bind(api);
      const record = await call(command.id, command.action);
      const verb = { approve: 'approved', reject: 'rejected', release: 'released' }[command.name];
      return answer(
        record,
        PREFLIGHT_EXIT.ok,
        () => `${verb} ${record.id} by ${command.action.by}\n${renderRecord(record)}`,
      );
    }
    case 'list': {
      const list = await api.listPreflights({ status: command.status, jobId: command.jobId, limit: command.limit });
      return answer(list, PREFLIGHT_EXIT.ok, () =>
        list.preflights.length === 0
          ? 'no preflights\n'
          : renderRows(
              'table',
              ['ID', 'STATUS', 'DECISION', 'AMOUNT_USD', 'JOB', 'REQUESTED_BY', 'CREATED_AT', 'DESCRIPTION'],
              list.preflights.map((r) => [
                r.id,
                r.status,
                r.decision,
                r.amount_usd,
                r.job_id ?? '-',
                r.requested_by,
                r.created_at,
                r.description === '' ? '-' : r.description,
              ]),
            ),
      );
    }
  }
}

function formatWait(ms: number): string {
  for (const [unit, size] of Object.entries(DURATION_MS).reverse()) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** One preflight as text: a summary block, then the priced lines, the reasons and the budgets. */
export function renderRecord(record: PreflightRecord): string {
  const summary: [string, string][] = [
    ['id', record.id],
    ['decision', record.decision],
    ['status', record.status],
    ['amount', `${record.amount_usd} ${record.currency} (prices ${record.pricing_version})`],
  ];
  if (record.job_id !== null || record.job_kind !== null) {
    summary.push(['job', `${record.job_id ?? '-'}${record.job_kind === null ? '' : ` (${record.job_kind})`}`]);
  }
  // The aggregator lists the job among the dimensions too; it has its own line.
  const dims = Object.entries(record.dimensions)
    .filter(([k]) => k !== 'job_id' && k !== 'job_kind')
    .map(([k, v]) => `${k}=${v}`);
  if (dims.length > 0) summary.push(['dimensions', dims.join(' ')]);
  summary.push([
    'requested',
    `by ${record.requested_by} at ${record.created_at}${record.description === '' ? '' : `: ${record.description}`}`,
  ]);
  if (record.decided_by !== null) {
    summary.push([
      'decided',
      `by ${record.decided_by} at ${record.decided_at ?? '?'}${record.note === null ? '' : `: ${record.note}`}`,
    ]);
  }
  if (record.rules.length > 0) summary.push(['rules', record.rules.join(', ')]);
  const r = record.reservation;
  if (r !== null) {
    summary.push([
      'reservation',
      `${r.amount_usd} ${record.currency} until ${r.expires_at}; settled ${r.settled_usd}, outstanding ${r.outstanding_usd}`,
    ]);
  }
  const width = Math.max(...summary.map(([k]) => k.length));
  let out = summary.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
  if (record.lines.length > 0) {
    out += `\n${renderRows(
      'table',
      ['WHAT', 'AMOUNT_USD', 'PRICE_IDS'],
      record.lines.map((l): Cell[] => [l.what, l.amount_usd, l.price_ids.join(',') || '-']),
    )}`;
  }
  if (record.reasons.length > 0) {
    out += `\n${renderRows(
      'table',
      ['REASON', 'RULE', 'BUDGET', 'DETAIL'],
      record.reasons.map((x): Cell[] => [
        x.code,
        x.rule ?? '-',
        x.budget_id === undefined ? '-' : `${x.budget_id}${x.scope_key === undefined ? '' : ` [${x.scope_key}]`}`,
        x.detail,
      ]),
    )}`;
  }
  if (record.budgets.length > 0) {
    out += `\n${renderRows(
      'table',
      ['BUDGET', 'KEY', 'LIMIT_USD', 'SPEND_USD', 'RESERVED_USD', 'REMAINING_USD', 'REMAINING_AFTER_USD'],
      record.budgets.map((b): Cell[] => [
        b.budget_id,
        b.scope_key,
        b.limit_usd,
        b.spend_usd,
        b.reserved_usd,
        b.remaining_usd,
        b.remaining_after_usd,
      ]),
    )}`;
  }
  if (record.status === 'pending') {
    out += `\nwaiting for approval: costtrace preflight approve ${record.id} --by NAME (or reject)\n`;
  }
  return out;
}

/** An API failure as the command's answer: 2 for a refused request (400), 3 not found, 1 otherwise. */
function apiFailure(err: unknown, command: PreflightCommand): CommandResult {
  if (!(err instanceof ApiError)) throw err;
  if (err.code !== 'HTTP_STATUS')
    return { exitCode: PREFLIGHT_EXIT.failed, stdout: '', stderr: `error: ${err.message}\n` };
  const message = err.serverMessage ?? (typeof err.body === 'string' ? err.body : JSON.stringify(err.body));
  const hint =
    err.status === 409 && 'id' in command
      ? ` (costtrace preflight show ${command.id} shows its status)`
      : err.status === 403
        ? ' (the matching policy rules name who may decide: docs/budgets-and-webhooks.md#preflight)'
        : '';
  const exitCode =
    err.status === 400 ? PREFLIGHT_EXIT.usage : err.status === 404 ? PREFLIGHT_EXIT.notFound : PREFLIGHT_EXIT.failed;
  return { exitCode, stdout: '', stderr: `error ${err.status}: ${message}${hint}\n` };
}
