// `costtrace preflight` through the CLI dispatcher against an in-test aggregator on loopback that
// answers the /v1/preflight contract: a decision by amount (under 100 USD allow, under 1000 needs
// approval, else deny), approvals by `alice` only (403), state rules (409), unknown ids (404),
// invalid plans (400). Checks the argument errors, the request body, the exit code per decision,
// and the table and JSON output.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AggregatorClient } from '@costtrace/client';
import type { PreflightRecord, PreflightRequest } from '@costtrace/client';
import { PREFLIGHT_EXIT, run, runPreflightCommand } from '../src/index.js';
import type { CliIo } from '../src/index.js';

/** What the fake aggregator charges: 2 USD per GPU-hour, 1 USD per 1M tokens, or the stated amount. */
function price(plan: PreflightRequest['plan']): number {
  if (plan.amount_usd !== undefined) return Number(plan.amount_usd);
  let usd = 0;
  for (const g of plan.gpus ?? []) usd += g.count * Number(g.hours) * 2;
  for (const m of plan.models ?? []) usd += (m.input_tokens + m.output_tokens) / 1e6;
  return usd;
}

class FakeAggregator {
  readonly requests: { method: string; url: string; body: unknown }[] = [];
  readonly records = new Map<string, PreflightRecord>();
  private server: Server | undefined;
  private next = 0;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        const body: unknown = text === '' ? undefined : JSON.parse(text);
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', body });
        this.answer(req, res, body);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  reset(): void {
    this.requests.length = 0;
    this.records.clear();
    this.next = 0;
  }

  /** Decides `id` as an approver would, outside the CLI (for --wait). */
  decide(id: string, status: 'reserved' | 'rejected'): void {
    const r = this.records.get(id)!;
    this.records.set(id, { ...r, status, decided_by: 'alice', decided_at: '2026-12-03T11:00:00.000Z' });
  }

  private answer(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    const send = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    const error = (status: number, code: string, message: string): void => send(status, { error: { code, message } });
    const url = new URL(req.url ?? '/', this.url);
    const parts = url.pathname.split('/').slice(1); // v1, preflight, id?, verb?
    if (parts[0] !== 'v1' || parts[1] !== 'preflight') return error(404, 'NOT_FOUND', 'no route');
    if (parts.length === 2 && req.method === 'POST') {
      const request = body as PreflightRequest;
      const amount = price(request.plan);
      if (!(amount > 0))
        return error(400, 'INVALID_REQUEST', 'plan prices to nothing: give gpus, models or amount_usd');
      const decision = amount < 100 ? 'allow' : amount < 1000 ? 'needs_approval' : 'deny';
      const id = `pf_${String(this.next++).padStart(26, '0')}`;
      const usd = String(amount);
      const record: PreflightRecord = {
        id,
        decision,
        status: decision === 'allow' ? 'reserved' : decision === 'deny' ? 'denied' : 'pending',
        job_id: request.job_id ?? null,
        job_kind: request.job_kind ?? null,
        dimensions: request.dimensions ?? {},
        amount_usd: usd,
        currency: 'USD',
        lines: [
          ...(request.plan.gpus ?? []).map((g) => ({
            what: `gpu ${g.type} × ${g.count} × ${g.hours} h`,
            amount_usd: String(g.count * Number(g.hours) * 2),
            price_ids: [`reference:gpu:${g.type}`],
          })),
          ...(request.plan.models ?? []).map((m) => ({
            what: `${m.provider}/${m.model}`,
            amount_usd: String((m.input_tokens + m.output_tokens) / 1e6),
            price_ids: [`${m.provider}:${m.model}:input`, `${m.provider}:${m.model}:output`],
          })),
        ],
        pricing_version: 'v42',
        reasons:
          decision === 'allow'
            ? []
            : [
                {
                  code: decision === 'deny' ? 'above_deny_threshold' : 'above_approval_threshold',
                  rule: 'big-jobs',
                  detail: `${usd} USD is at or above the rule's threshold`,
                },
              ],
        rules: ['big-jobs'],
        budgets: [
          {
            budget_id: 'team-ml-monthly',
            scope_key: 'team=ml',
            limit_usd: '5000',
            spend_usd: '1200',
            reserved_usd: '300',
            remaining_usd: '3500',
            remaining_after_usd: String(3500 - amount),
          },
        ],
        requested_by: request.requested_by,
        description: request.description ?? '',
        created_at: '2026-12-03T10:00:00.000Z',
        decided_by: null,
        decided_at: null,
        note: null,
        reservation:
          decision === 'allow'
            ? { amount_usd: usd, settled_usd: '0', outstanding_usd: usd, expires_at: '2026-12-06T10:00:00.000Z' }
            : null,
      };
      this.records.set(id, record);
      return send(200, record);
    }
    if (parts.length === 2 && req.method === 'GET') {
      const status = url.searchParams.get('status');
      const job = url.searchParams.get('job_id');
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const preflights = [...this.records.values()]
        .reverse()
        .filter((r) => (status === null || r.status === status) && (job === null || r.job_id === job))
        .slice(0, limit);
      return send(200, { preflights });
    }
    const record = this.records.get(decodeURIComponent(parts[2] ?? ''));
    if (record === undefined) return error(404, 'NOT_FOUND', `no preflight ${parts[2]}`);
    if (parts.length === 3 && req.method === 'GET') return send(200, record);
    const verb = parts[3];
    const action = body as { by: string; note?: string };
    const allowed = verb === 'release' ? ['reserved', 'pending'] : ['pending'];
    if (!allowed.includes(record.status)) {
      return error(
        409,
        'CONFLICT',
        `preflight ${record.id} is ${record.status}; ${verb} needs ${allowed.join(' or ')}`,
      );
    }
    if (verb !== 'release' && action.by !== 'alice') {
      return error(403, 'FORBIDDEN', `${action.by} is not an approver of rule big-jobs`);
    }
    const status = verb === 'approve' ? 'reserved' : verb === 'reject' ? 'rejected' : 'released';
    const updated: PreflightRecord = {
      ...record,
      status,
      decided_by: verb === 'release' ? record.decided_by : action.by,
      decided_at: '2026-12-03T11:00:00.000Z',
      note: action.note ?? null,
      reservation:
        status === 'reserved'
          ? {
              amount_usd: record.amount_usd,
              settled_usd: '0',
              outstanding_usd: record.amount_usd,
              expires_at: '2026-12-06T11:00:00.000Z',
            }
          : null,
    };
    this.records.set(record.id, updated);
    return send(200, updated);
  }
}

describe('costtrace preflight', () => {
  const api = new FakeAggregator();
  before(() => api.start());
  after(() => api.stop());
  beforeEach(() => api.reset());

  async function cli(
    argv: string[],
    env: Record<string, string> = {},
  ): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: CliIo = {
      out: (t) => (out += `${t}\n`),
      err: (t) => (err += `${t}\n`),
      env: { COSTTRACE_API_URL: api.url, ...env },
    };
    const code = await run(['preflight', ...argv], io);
    return { code, out, err };
  }

  const gpuJob = (hours: string): string[] => [
    'request',
    '--by',
    'ci',
    '--job',
    'ft-42',
    '--job-kind',
    'fine_tuning',
    '--dim',
    'team=ml',
    '--gpu',
    'h100-80gb',
    '--count',
    '8',
    '--hours',
    hours,
  ];

  it('refuses bad lines with exit 2 and a message that names the fix, sending nothing', async () => {
    const cases: [string[], RegExp][] = [
      [[], /a sub-command is missing/],
      [['launch'], /unknown preflight sub-command "launch"/],
      [['request', '--gpu', 'h100-80gb', '--count', '1', '--hours', '1'], /needs --by NAME/],
      [['request', '--by', 'ci'], /needs what the work uses: --gpu TYPE --count N --hours H/],
      [['request', '--by', 'ci', '--count', '8', '--gpu', 'h100-80gb'], /--count belongs to a --gpu TYPE group/],
      [['request', '--by', 'ci', '--gpu', 'h100-80gb', '--count', '8'], /--gpu h100-80gb needs --hours H/],
      [['request', '--by', 'ci', '--gpu', 'h100-80gb', '--hours', '2'], /--gpu h100-80gb needs --count N/],
      [
        ['request', '--by', 'ci', '--gpu', 'a', '--count', '0', '--hours', '2'],
        /--count of --gpu a must be a whole number ≥ 1/,
      ],
      [
        ['request', '--by', 'ci', '--gpu', 'a', '--count', '1', '--hours', '0'],
        /--hours of --gpu a must be a decimal number of hours above 0/,
      ],
      [
        ['request', '--by', 'ci', '--gpu', 'a', '--count', '1', '--count', '2', '--hours', '1'],
        /--count given twice for --gpu a; start another group with --gpu/,
      ],
      [
        ['request', '--by', 'ci', '--model', 'gpt-4o', '--input-tokens', '1', '--output-tokens', '1'],
        /use provider\/model, e\.g\. openai\/gpt-4o/,
      ],
      [
        ['request', '--by', 'ci', '--model', 'openai/gpt-4o', '--input-tokens', '10'],
        /--model openai\/gpt-4o needs --output-tokens N/,
      ],
      [
        [
          'request',
          '--by',
          'ci',
          '--model',
          'openai/gpt-4o',
          '--input-tokens',
          '10',
          '--output-tokens',
          '1',
          '--cached-tokens',
          '11',
        ],
        /--cached-tokens of --model openai\/gpt-4o are part of --input-tokens: at most 10/,
      ],
      [
        ['request', '--by', 'ci', '--amount', '5', '--gpu', 'a', '--count', '1', '--hours', '1'],
        /--amount states the whole amount/,
      ],
      [['request', '--by', 'ci', '--amount', '1e3'], /--amount "1e3": use a decimal USD amount/],
      [['request', '--by', 'ci', '--amount', '5', '--dim', 'team'], /--dim "team": use dimension=value/],
      [
        ['request', '--by', 'ci', '--amount', '5', '--reservation-hours', '1.5'],
        /--reservation-hours must be whole hours/,
      ],
      [['request', '--by', 'ci', '--amount', '5', '--wait', 'soon'], /--wait "soon": use a duration/],
      [['request', '--by', 'c i', '--amount', '5'], /--by "c i": use a name of 1-128 characters without spaces/],
      [['request', '--by', 'ci', '--amount', '5', '--format', 'xml'], /--format must be one of table, json; got "xml"/],
      [['request', '--by', 'ci', '--amount', '5', '--colour'], /unknown option --colour/],
      [['approve', '--by', 'alice'], /needs the preflight id/],
      [['approve', 'pf_123', '--by', 'alice'], /"pf_123" is not a preflight id/],
      [['reject', 'pf_00000000000000000000000000'], /needs --by NAME/],
      [['show', 'pf_00000000000000000000000000', 'extra'], /unexpected argument "extra"/],
      [['list', '--limit', '0'], /--limit must be a whole number from 1 to 1000/],
      [['list', '--status', 'approved'], /--status must be one of pending, reserved/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(argv);
      assert.equal(r.code, PREFLIGHT_EXIT.usage, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.err, message, argv.join(' '));
      assert.equal(r.out, '');
    }
    const badUrl = await cli(['request', '--by', 'ci', '--amount', '5', '--api-url', 'aggregator:8080']);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.err, /--api-url: aggregator URL must be http:\/\/ or https:\/\//);
    assert.equal(api.requests.length, 0);
  });

  it('sends the plan in groups, in the order given, with the job, dimensions and options', async () => {
    const r = await cli([
      'request',
      '--by',
      'ci-pipeline',
      '--job',
      'eval-7',
      '--job-kind',
      'evaluation',
      '--dim',
      'team=ml',
      '--dim',
      'tenant=acme=1',
      '--gpu',
      'h100-80gb',
      '--count',
      '2',
      '--hours',
      '1.5',
      '--model',
      'openai/gpt-4o',
      '--input-tokens',
      '2000000',
      '--cached-tokens',
      '500000',
      '--output-tokens',
      '100000',
      '--requests',
      '400',
      '--tier',
      'batch',
      '--gpu',
      'l4',
      '--hours=6',
      '--count',
      '1',
      '--gpu-provider',
      'internal',
      '--pricing-model',
      'spot',
      '--model',
      'anthropic/claude-sonnet-4',
      '--input-tokens',
      '10',
      '--output-tokens',
      '0',
      '--description',
      'nightly eval',
      '--reservation-hours',
      '24',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.equal(api.requests.length, 1);
    assert.deepEqual(api.requests[0], {
      method: 'POST',
      url: '/v1/preflight',
      body: {
        job_id: 'eval-7',
        job_kind: 'evaluation',
        dimensions: { team: 'ml', tenant: 'acme=1' },
        plan: {
          gpus: [
            { type: 'h100-80gb', count: 2, hours: '1.5' },
            { type: 'l4', count: 1, hours: '6', provider: 'internal', pricing_model: 'spot' },
          ],
          models: [
            {
              provider: 'openai',
              model: 'gpt-4o',
              input_tokens: 2_000_000,
              output_tokens: 100_000,
              cached_input_tokens: 500_000,
              requests: 400,
              service_tier: 'batch',
            },
            { provider: 'anthropic', model: 'claude-sonnet-4', input_tokens: 10, output_tokens: 0 },
          ],
        },
        requested_by: 'ci-pipeline',
        description: 'nightly eval',
        reservation_hours: 24,
      },
    });
    const amount = await cli(['request', '--by', 'ci', '--amount', '12.5']);
    assert.equal(amount.code, 0, amount.err);
    assert.deepEqual(api.requests[1]?.body, { plan: { amount_usd: '12.5' }, requested_by: 'ci' });
  });

  it('exits 0 when allowed, 4 when it needs approval, 5 when denied, with the decision in the table', async () => {
    const allowed = await cli(gpuJob('2')); // 8 × 2 h × 2 USD = 32 USD
    assert.equal(allowed.code, PREFLIGHT_EXIT.ok, allowed.err);
    assert.match(allowed.out, /^id\s+pf_0{26}$/m);
    assert.match(allowed.out, /^decision\s+allow$/m);
    assert.match(allowed.out, /^status\s+reserved$/m);
    assert.match(allowed.out, /^amount\s+32 USD \(prices v42\)$/m);
    assert.match(allowed.out, /^job\s+ft-42 \(fine_tuning\)$/m);
    assert.match(allowed.out, /^dimensions\s+team=ml$/m);
    assert.match(allowed.out, /^reservation\s+32 USD until 2026-12-06T10:00:00.000Z; settled 0, outstanding 32$/m);
    assert.match(allowed.out, /^WHAT\s+AMOUNT_USD\s+PRICE_IDS$/m);
    assert.match(allowed.out, /^gpu h100-80gb × 8 × 2 h\s+32\s+reference:gpu:h100-80gb$/m);
    assert.match(
      allowed.out,
      /^BUDGET\s+KEY\s+LIMIT_USD\s+SPEND_USD\s+RESERVED_USD\s+REMAINING_USD\s+REMAINING_AFTER_USD$/m,
    );
    assert.match(allowed.out, /^team-ml-monthly\s+team=ml\s+5000\s+1200\s+300\s+3500\s+3468$/m);
    assert.doesNotMatch(allowed.out, /REASON/);

    const pending = await cli(gpuJob('12')); // 192 USD
    assert.equal(pending.code, PREFLIGHT_EXIT.needsApproval);
    assert.match(pending.out, /^decision\s+needs_approval$/m);
    assert.match(pending.out, /^status\s+pending$/m);
    assert.match(pending.out, /^REASON\s+RULE\s+BUDGET\s+DETAIL$/m);
    assert.match(pending.out, /^above_approval_threshold\s+big-jobs\s+-\s+192 USD is at or above/m);
    assert.match(pending.out, /waiting for approval: costtrace preflight approve pf_0{25}1 --by NAME/);
    assert.doesNotMatch(pending.out, /^reservation/m);

    const denied = await cli(gpuJob('250')); // 4000 USD
    assert.equal(denied.code, PREFLIGHT_EXIT.denied);
    assert.match(denied.out, /^decision\s+deny$/m);
    assert.match(denied.out, /^status\s+denied$/m);
    assert.match(denied.out, /^above_deny_threshold\s+big-jobs/m);
    assert.match(denied.out, /^team-ml-monthly\s+team=ml\s+5000\s+1200\s+300\s+3500\s+-500$/m); // negative after

    // JSON: the record as the API answered it, same exit code.
    const json = await cli([...gpuJob('12'), '--format', 'json']);
    assert.equal(json.code, PREFLIGHT_EXIT.needsApproval);
    const record = JSON.parse(json.out) as PreflightRecord;
    assert.deepEqual(record, api.records.get(record.id));
  });

  it('approves, rejects and releases; 409, 403, 404 and 400 exit 1, 1, 3 and 2 with the server message', async () => {
    await cli(gpuJob('12'));
    await cli(gpuJob('20'));
    const [first, second] = [...api.records.keys()];
    const approved = await cli(['approve', first!, '--by', 'alice', '--note', 'Q4 budget']);
    assert.equal(approved.code, 0, approved.err);
    assert.match(approved.out, new RegExp(`^approved ${first} by alice$`, 'm'));
    assert.match(approved.out, /^status\s+reserved$/m);
    assert.match(approved.out, /^decided\s+by alice at 2026-12-03T11:00:00.000Z: Q4 budget$/m);
    assert.deepEqual(api.requests.at(-1), {
      method: 'POST',
      url: `/v1/preflight/${first}/approve`,
      body: { by: 'alice', note: 'Q4 budget' },
    });

    const again = await cli(['approve', first!, '--by', 'alice']);
    assert.equal(again.code, PREFLIGHT_EXIT.failed);
    assert.match(again.err, new RegExp(`error 409: preflight ${first} is reserved; approve needs pending`));
    assert.match(again.err, new RegExp(`costtrace preflight show ${first} shows its status`));

    const forbidden = await cli(['approve', second!, '--by', 'mallory']);
    assert.equal(forbidden.code, PREFLIGHT_EXIT.failed);
    assert.match(forbidden.err, /error 403: mallory is not an approver of rule big-jobs/);

    const rejected = await cli(['reject', second!, '--by', 'alice', '--format', 'json']);
    assert.equal(rejected.code, 0);
    assert.equal((JSON.parse(rejected.out) as PreflightRecord).status, 'rejected');
    assert.deepEqual(api.requests.at(-1)?.body, { by: 'alice' });

    const released = await cli(['release', first!, '--by', 'ci', '--note', 'job cancelled']);
    assert.equal(released.code, 0, released.err);
    assert.match(released.out, /^status\s+released$/m);
    assert.equal(api.requests.at(-1)?.url, `/v1/preflight/${first}/release`);

    const missing = await cli(['show', 'pf_zzzzzzzzzzzzzzzzzzzzzzzzzz']);
    assert.equal(missing.code, PREFLIGHT_EXIT.notFound);
    assert.match(missing.err, /error 404: no preflight pf_z{26}/);

    const invalid = await cli(['request', '--by', 'ci', '--amount', '0']);
    assert.equal(invalid.code, PREFLIGHT_EXIT.usage);
    assert.match(invalid.err, /error 400: plan prices to nothing/);
  });

  it('shows one preflight and lists them newest first, filtered, as a table or JSON', async () => {
    await cli(gpuJob('2'));
    await cli([...gpuJob('12').slice(0, 3), '--job', 'ft-43', ...gpuJob('12').slice(5)]);
    const [first, second] = [...api.records.keys()];
    const shown = await cli(['show', first!]);
    assert.equal(shown.code, 0);
    assert.match(shown.out, new RegExp(`^id\\s+${first}$`, 'm'));
    assert.equal(api.requests.at(-1)?.url, `/v1/preflight/${first}`);

    const list = await cli(['list']);
    assert.equal(list.code, 0, list.err);
    const lines = list.out.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+STATUS\s+DECISION\s+AMOUNT_USD\s+JOB\s+REQUESTED_BY\s+CREATED_AT\s+DESCRIPTION$/);
    assert.match(
      lines[2]!,
      new RegExp(`^${second}\\s+pending\\s+needs_approval\\s+192\\s+ft-43\\s+ci\\s+2026-12-03T10:00:00.000Z\\s+-$`),
    );
    assert.match(lines[3]!, new RegExp(`^${first}\\s+reserved\\s+allow\\s+32\\s+ft-42`));

    const filtered = await cli(['list', '--status', 'pending', '--job', 'ft-43', '--limit', '5', '--format', 'json']);
    assert.equal(filtered.code, 0);
    assert.equal(api.requests.at(-1)?.url, '/v1/preflight?status=pending&job_id=ft-43&limit=5');
    assert.deepEqual(
      (JSON.parse(filtered.out) as { preflights: PreflightRecord[] }).preflights.map((p) => p.id),
      [second],
    );
    const none = await cli(['list', '--status', 'expired']);
    assert.equal(none.code, 0);
    assert.equal(none.out, 'no preflights\n');
  });

  it('--wait polls a pending request until it is decided, and exits as the decision', async () => {
    let clock = 0;
    const sleeps: number[] = [];
    const deps = (onSleep: (n: number) => void) => ({
      client: (url: string | undefined) => new AggregatorClient({ baseUrl: url ?? api.url }),
      now: () => clock,
      pollIntervalMs: 60_000,
      sleep: (ms: number) => {
        sleeps.push(ms);
        clock += ms;
        onSleep(sleeps.length);
        return Promise.resolve();
      },
    });
    const approvedLater = await runPreflightCommand(
      [...gpuJob('12'), '--wait', '1h'],
      deps((n) => {
        if (n === 3) api.decide([...api.records.keys()][0]!, 'reserved');
      }),
    );
    assert.equal(approvedLater.exitCode, PREFLIGHT_EXIT.ok, approvedLater.stderr);
    assert.match(approvedLater.stdout, /^status\s+reserved$/m);
    assert.deepEqual(sleeps, [60_000, 60_000, 60_000]);
    assert.equal(api.requests.filter((r) => r.method === 'GET').length, 3);

    const rejectedLater = await runPreflightCommand(
      [...gpuJob('12'), '--wait', '1h'],
      deps(() => api.decide([...api.records.keys()][1]!, 'rejected')),
    );
    assert.equal(rejectedLater.exitCode, PREFLIGHT_EXIT.denied);

    sleeps.length = 0;
    const timedOut = await runPreflightCommand(
      [...gpuJob('12'), '--wait', '150s'],
      deps(() => undefined),
    );
    assert.equal(timedOut.exitCode, PREFLIGHT_EXIT.needsApproval);
    assert.deepEqual(sleeps, [60_000, 60_000, 30_000]);
    assert.match(timedOut.stdout, /still pending after --wait 150s/);

    // An allowed request does not wait.
    sleeps.length = 0;
    const allowed = await runPreflightCommand(
      [...gpuJob('1'), '--wait', '1h'],
      deps(() => undefined),
    );
    assert.equal(allowed.exitCode, 0);
    assert.deepEqual(sleeps, []);
  });

  it('exits 1 when the aggregator is unreachable, so `request && job` does not run the job', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const r = await cli([...gpuJob('2'), '--api-url', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, PREFLIGHT_EXIT.failed);
    assert.match(r.err, /error: POST \/v1\/preflight: http:\/\/127\.0\.0\.1:\d+ is not reachable/);
  });

  it('documents the command and its exit codes in the help', async () => {
    const help = await cli(['request', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /4 request: needs approval \(pending\),\s+5 request: denied/);
    assert.match(help.out, /costtrace preflight request --by ci .*&& \.\/train\.sh/s);
    let top = '';
    await run(['--help'], { out: (t) => (top += t), err: () => undefined, env: {} });
    assert.match(top, /preflight\s+price planned work and decide before the spend/);
    assert.match(top, /preflight request also 4 needs approval and 5 denied/);
  });
});
