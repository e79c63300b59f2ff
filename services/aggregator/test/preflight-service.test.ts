// Preflight decisions, approvals and reservations on an in-memory budget store, with a clock the
// test moves and a catalog written here; expected money is worked out here with bigint arithmetic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { parseBudget, parsePreflightRule, PriceSnapshot, priceFromRecord } from '@costtrace/core';
import type { PreflightRecord } from '@costtrace/client';
import { HttpError } from '@costtrace/service-kit';
import { BudgetCatalog } from '../src/budgets/budget-catalog.js';
import { MemoryBudgetStore } from '../src/budgets/budget-store.js';
import type { KeyStatus } from '../src/budgets/budget-engine.js';
import { PreflightService } from '../src/preflight/preflight-service.js';
import type { WebhookEvent } from '../src/webhooks/webhook-event.js';

const USD = 10n ** 12n;
const T0 = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;

// A GPU at $4.25 an hour, and a model with a long-context tier: $3 / $6 per 1M input tokens up to
// and above 200k tokens a prompt, $15 per 1M output, $0.30 per 1M cached input.
const snapshot = new PriceSnapshot(
  7n,
  [
    {
      provider: 'reference',
      resourceType: 'gpu',
      sku: 'h100-80gb',
      kind: 'gpu_time',
      unit: 'gpu_hour',
      amount: '4.25',
      effectiveFrom: '2025-01-01',
      source: 'test',
      gpuType: 'h100-80gb',
    },
    {
      provider: 'acme',
      resourceType: 'model',
      sku: 'big',
      kind: 'input_tokens',
      unit: '1m_tokens',
      amount: '3',
      effectiveFrom: '2025-01-01',
      source: 'test',
    },
    {
      provider: 'acme',
      resourceType: 'model',
      sku: 'big',
      kind: 'input_tokens',
      unit: '1m_tokens',
      amount: '6',
      effectiveFrom: '2025-01-01',
      source: 'test',
      aboveInputTokens: 200_000,
    },
    {
      provider: 'acme',
      resourceType: 'model',
      sku: 'big',
      kind: 'output_tokens',
      unit: '1m_tokens',
      amount: '15',
      effectiveFrom: '2025-01-01',
      source: 'test',
    },
    {
      provider: 'acme',
      resourceType: 'model',
      sku: 'big',
      kind: 'cache_read_tokens',
      unit: '1m_tokens',
      amount: '0.3',
      effectiveFrom: '2025-01-01',
      source: 'test',
    },
  ].map((r, i) => priceFromRecord(r, `p${i}`)),
  [],
  T0,
);

const rules = [
  parsePreflightRule(
    {
      id: 'fine-tunes',
      scope: { job_kind: 'fine_tuning' },
      approval_above_usd: '50',
      deny_above_usd: '500',
      approvers: ['alice'],
      reservation_hours: 24,
      webhooks: ['ml'],
    },
    'preflight[0]',
  ),
];
const catalog = new BudgetCatalog([
  parseBudget({ id: 'ml-month', scope: { team: 'ml' }, window: 'month', limit_usd: '100', webhooks: ['ops'] }),
]);

interface Rig {
  readonly service: PreflightService;
  readonly events: { event: WebhookEvent; endpoints: readonly string[] }[];
  readonly clock: { now: number };
  readonly spend: Map<string, bigint>;
}

function rig(store = new MemoryBudgetStore(), spent = 40n * USD): Rig {
  const events: Rig['events'] = [];
  const clock = { now: T0 };
  const spend = new Map<string, bigint>();
  const service = new PreflightService({
    store,
    rules: () => rules,
    catalog: () => catalog,
    status: () =>
      Promise.resolve({
        keys: [{ scopeKey: 'ml-month', spend: spent, limit: 100n * USD } as KeyStatus],
      }),
    snapshot: () => snapshot,
    spend: (items) =>
      Promise.resolve(new Map(items.flatMap((i) => (spend.has(i.jobId) ? [[i.jobId, spend.get(i.jobId)!]] : [])))),
    publish: (event, endpoints) => {
      events.push({ event, endpoints });
      return Promise.resolve(true);
    },
    logger: pino({ level: 'silent' }),
    now: () => clock.now,
  });
  return { service, events, clock, spend };
}

const gpuJob = (jobId: string, hours: string, extra: Record<string, unknown> = {}) => ({
  job_id: jobId,
  job_kind: 'fine_tuning',
  dimensions: { team: 'ml' },
  plan: { gpus: [{ type: 'h100-80gb', count: 1, hours }] },
  requested_by: 'ci-pipeline',
  ...extra,
});

const amount = (r: PreflightRecord): bigint => {
  const [whole = '0', fraction = ''] = r.amount_usd.split('.');
  return BigInt(whole) * USD + BigInt(fraction.padEnd(12, '0'));
};

async function rejects(promise: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  await assert.rejects(
    promise,
    (err: unknown) => err instanceof HttpError && err.status === status && message.test(err.message),
  );
}

describe('PreflightService', () => {
  it('prices GPU time, allows and reserves work that fits, counting reservations against the budget', async () => {
    const { service, events } = rig();
    // $100 limit − $40 spent = $60. 4 h × $4.25 = $17.
    const a = await service.request(gpuJob('ft-a', '4'));
    assert.equal(a.decision, 'allow');
    assert.equal(a.status, 'reserved');
    assert.equal(amount(a), 17n * USD);
    assert.deepEqual(a.budgets, [
      {
        budget_id: 'ml-month',
        scope_key: 'ml-month',
        limit_usd: '100',
        spend_usd: '40',
        reserved_usd: '0',
        remaining_usd: '60',
        remaining_after_usd: '43',
      },
    ]);
    assert.equal(a.reservation!.expires_at, new Date(T0 + 24 * HOUR).toISOString(), "the rule's 24 h hold");
    assert.equal(service.reservedOn('ml-month'), 17n * USD);
    // 10.5 h = $44.625: $43 remain after the first reservation, so it does not fit: denied (no rule says ask).
    const b = await service.request(gpuJob('ft-b', '10.5'));
    assert.equal(b.decision, 'deny');
    assert.equal(b.status, 'denied');
    assert.equal(b.reservation, null);
    assert.deepEqual(
      b.reasons.map((r) => [r.code, r.budget_id]),
      [['over_budget', 'ml-month']],
    );
    assert.equal(b.budgets[0]!.reserved_usd, '17');
    // Each decision is announced to the rule's and the budget's endpoints.
    assert.deepEqual(
      events.map((e) => [e.event.type, [...e.endpoints].sort()]),
      [
        ['preflight.decided', ['ml', 'ops']],
        ['preflight.decided', ['ml', 'ops']],
      ],
    );
    const body = JSON.parse(events[1]!.event.body) as { type: string; data: { preflight: PreflightRecord } };
    assert.equal(body.data.preflight.id, b.id);
  });

  it('asks for approval above the threshold; only a named approver approves, and the amount is reserved from then', async () => {
    const { service, events, clock } = rig(new MemoryBudgetStore(), 0n);
    const big = await service.request(gpuJob('ft-big', '14')); // $59.50 ≥ $50
    assert.equal(big.decision, 'needs_approval');
    assert.equal(big.status, 'pending');
    assert.equal(big.reasons[0]!.code, 'above_approval_threshold');
    assert.equal(service.reservedOn('ml-month'), 0n, 'a pending request holds nothing');
    await rejects(service.approve(big.id, 'mallory', undefined), 403, /mallory may not approve/);
    clock.now += HOUR;
    const approved = await service.approve(big.id, 'alice', 'budgeted in Q1 plan');
    assert.equal(approved.status, 'reserved');
    assert.equal(approved.decided_by, 'alice');
    assert.equal(approved.decided_at, new Date(T0 + HOUR).toISOString());
    assert.equal(approved.note, 'budgeted in Q1 plan');
    assert.equal(approved.reservation!.expires_at, new Date(T0 + 25 * HOUR).toISOString());
    assert.equal(service.reservedOn('ml-month'), 59n * USD + USD / 2n);
    await rejects(service.approve(big.id, 'alice', undefined), 409, /is reserved: only a pending one/);
    assert.equal(events.at(-1)!.event.type, 'preflight.approved');
    // Above the deny threshold: denied without asking.
    assert.equal((await service.request(gpuJob('ft-huge', '200'))).decision, 'deny');
  });

  it("settles a reservation as the job's spans spend it, and expires what is held past its time", async () => {
    const { service, events, clock, spend } = rig(new MemoryBudgetStore(), 0n);
    const a = await service.request(gpuJob('ft-a', '4')); // $17
    const c = await service.request(gpuJob('ft-c', '2')); // $8.50
    spend.set('ft-a', 5n * USD);
    await service.tick();
    const partly = service.get(a.id);
    assert.equal(partly.status, 'reserved');
    assert.equal(partly.reservation!.settled_usd, '5');
    assert.equal(partly.reservation!.outstanding_usd, '12');
    assert.equal(
      service.reservedOn('ml-month'),
      12n * USD + 8n * USD + USD / 2n,
      'spent and reserved are not counted twice',
    );
    spend.set('ft-a', 17n * USD + 1n);
    clock.now += 23 * HOUR;
    await service.tick();
    assert.equal(service.get(a.id).status, 'settled');
    assert.equal(service.get(a.id).reservation!.outstanding_usd, '0');
    assert.equal(service.get(c.id).status, 'reserved');
    clock.now += HOUR;
    await service.tick();
    assert.equal(service.get(c.id).status, 'expired');
    assert.equal(service.reservedOn('ml-month'), 0n);
    assert.deepEqual(
      events.map((e) => e.event.type),
      ['preflight.decided', 'preflight.decided', 'preflight.reservation_settled', 'preflight.reservation_expired'],
    );
    // A settled reservation cannot be released; event ids are stable per record and change.
    await rejects(service.release(a.id, 'bob', undefined), 409, /is settled: nothing to release/);
    assert.notEqual(events[2]!.event.id, events[3]!.event.id);
  });

  it('shares records between instances through the store', async () => {
    const store = new MemoryBudgetStore();
    const one = rig(store, 0n);
    const two = rig(store, 0n);
    const a = await one.service.request(gpuJob('ft-a', '10')); // $42.50
    await two.service.refresh();
    assert.equal(two.service.get(a.id).status, 'reserved');
    // The second instance counts the first's reservation: $100 − $42.50 = $57.50 < $59.50.
    const b = await two.service.request(gpuJob('ft-b', '14'));
    assert.equal(b.decision, 'deny', 'over budget (and above the approval threshold)');
    assert.deepEqual(b.reasons.map((r) => r.code).sort(), ['above_approval_threshold', 'over_budget']);
    const released = await two.service.release(a.id, 'bob', 'job cancelled');
    assert.equal(released.status, 'released');
    await one.service.refresh();
    assert.equal(one.service.get(a.id).status, 'released');
    assert.deepEqual(
      one.service.list({ status: 'released', limit: 10 }).map((r) => r.id),
      [a.id],
    );
  });

  it('prices model calls request by request, at the tier of each prompt', async () => {
    const { service } = rig(new MemoryBudgetStore(), 0n);
    // 3 requests over 600,001 input tokens (100,000 cached) and 3,001 output: prompts of 200,001,
    // 200,000 and 200,000 tokens. Only the first is above 200k, at $6 per 1M uncached input.
    const r = await service.request({
      dimensions: { team: 'research' },
      plan: {
        models: [
          {
            provider: 'acme',
            model: 'big',
            input_tokens: 600_001,
            cached_input_tokens: 100_000,
            output_tokens: 3_001,
            requests: 3,
          },
        ],
      },
      requested_by: 'notebook',
    });
    // Per request (input incl. cache, cached, output): (200001, 33334, 1001), (200000, 33333, 1000) ×2.
    // Pico-USD: uncached input × price/1M, cached × 0.3/1M, output × 15/1M, each line rounded half to even.
    const line = (tokens: bigint, perMillionPico: bigint): bigint => {
      const n = tokens * perMillionPico;
      const q = n / 1_000_000n;
      const rem = n % 1_000_000n;
      return 2n * rem > 1_000_000n || (2n * rem === 1_000_000n && q % 2n === 1n) ? q + 1n : q;
    };
    const first = line(200_001n - 33_334n, 6n * USD) + line(33_334n, (3n * USD) / 10n) + line(1_001n, 15n * USD);
    const other = line(200_000n - 33_333n, 3n * USD) + line(33_333n, (3n * USD) / 10n) + line(1_000n, 15n * USD);
    assert.equal(amount(r), first + 2n * other);
    // No budget and no rule covers research's work: allowed, held against nothing.
    assert.equal(r.decision, 'allow');
    assert.deepEqual(r.budgets, []);
    assert.deepEqual([...r.lines[0]!.price_ids].sort(), [
      'acme/big/global/cache_read_tokens@2025-01-01',
      'acme/big/global/input_tokens/gt200000@2025-01-01',
      'acme/big/global/input_tokens@2025-01-01',
      'acme/big/global/output_tokens@2025-01-01',
    ]);
  });

  it('refuses a request it cannot read, naming the field', async () => {
    const { service } = rig();
    await rejects(service.request({ plan: {}, requested_by: 'x' }), 400, /plan: name the work/);
    await rejects(service.request(gpuJob('j', '0')), 400, /plan\.gpus\[0\]\.hours/);
    await rejects(
      service.request(gpuJob('j', '1', { dimensions: { colour: 'red' } })),
      400,
      /dimensions\.colour: unknown dimension/,
    );
    await rejects(
      service.request({ plan: { gpus: [{ type: 'z9000', count: 1, hours: '1' }] }, requested_by: 'x' }),
      400,
      /plan: /,
    );
    await rejects(service.request({ plan: { amount_usd: '1.0000000000001' }, requested_by: 'x' }), 400, /amount_usd/);
  });
});
