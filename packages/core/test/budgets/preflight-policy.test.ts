import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BUDGET_DIMENSIONS,
  decidePreflight,
  mayApprove,
  outstandingReservation,
  parsePreflightRule,
  preflightRuleToDocument,
  reservationHours,
} from '../../src/index.js';
import type { DimensionValues, PreflightBudgetState } from '../../src/index.js';

const USD = 10n ** 12n;

function values(over: Partial<Record<(typeof BUDGET_DIMENSIONS)[number], string>>): DimensionValues {
  const out = Object.fromEntries(BUDGET_DIMENSIONS.map((d) => [d, ''])) as Record<string, string>;
  return { ...out, ...over } as DimensionValues;
}

const fineTunes = parsePreflightRule(
  {
    id: 'fine-tunes',
    scope: { job_kind: 'fine_tuning' },
    approval_above_usd: '1000',
    deny_above_usd: '25000',
    approvers: ['alice', 'bob'],
    reservation_hours: 48,
    max_reservation_hours: 168,
    webhooks: ['ml'],
  },
  'preflight[0]',
);
const lenient = parsePreflightRule({ id: 'research', scope: { team: 'research' }, over_budget: 'needs_approval' }, 'p');
const budget = (over: Partial<PreflightBudgetState> = {}): PreflightBudgetState => ({
  budgetId: 'ml-month',
  scopeKey: 'ml-month|team=ml',
  limit: 10_000n * USD,
  spend: 4_000n * USD,
  reserved: 1_000n * USD,
  ...over,
});

describe('preflight policy', () => {
  const ft = values({ job_kind: 'fine_tuning', team: 'ml' });

  it('allows work under every threshold that fits in the remaining budget', () => {
    const outcome = decidePreflight(999_999_999_999_999n, ft, [fineTunes], [budget()]);
    assert.equal(outcome.decision, 'allow');
    assert.deepEqual(outcome.reasons, []);
    assert.deepEqual(
      outcome.rules.map((r) => r.id),
      ['fine-tunes'],
    );
  });

  it('asks for approval at the approval threshold and denies at the deny threshold', () => {
    const atApproval = decidePreflight(1_000n * USD, ft, [fineTunes], []);
    assert.equal(atApproval.decision, 'needs_approval');
    assert.equal(atApproval.reasons[0]!.code, 'above_approval_threshold');
    assert.match(atApproval.reasons[0]!.detail, /1000 USD is at or above the rule's approval threshold of 1000 USD/);
    const atDeny = decidePreflight(25_000n * USD, ft, [fineTunes], []);
    assert.equal(atDeny.decision, 'deny');
    assert.deepEqual(
      atDeny.reasons.map((r) => r.code),
      ['above_deny_threshold'],
    );
    // A rule for other work does not apply.
    assert.equal(decidePreflight(30_000n * USD, values({ job_kind: 'training' }), [fineTunes], []).decision, 'allow');
  });

  it('counts spend and other reservations against the budget, to the pico-dollar', () => {
    // 10,000 − 4,000 − 1,000 = 5,000 remain: exactly 5,000 fits, one pico-dollar more does not.
    assert.equal(decidePreflight(5_000n * USD, values({ team: 'ml' }), [], [budget()]).decision, 'allow');
    const over = decidePreflight(5_000n * USD + 1n, values({ team: 'ml' }), [], [budget()]);
    assert.equal(over.decision, 'deny', 'no rule: a plan over budget is denied');
    assert.deepEqual(
      over.reasons.map((r) => [r.code, r.budgetId, r.scopeKey]),
      [['over_budget', 'ml-month', 'ml-month|team=ml']],
    );
    assert.match(over.reasons[0]!.detail, /5000 USD remain \(limit 10000, spent 4000, reserved 1000\)/);
  });

  it("answers over-budget work with the matching rules' over_budget, the most severe reason winning", () => {
    const research = values({ team: 'research' });
    const b = budget({ budgetId: 'research', scopeKey: 'research', spend: 9_999n * USD, reserved: 0n });
    assert.equal(decidePreflight(2n * USD, research, [lenient], [b]).decision, 'needs_approval');
    // Over budget (needs approval) and over a deny threshold: deny.
    const both = parsePreflightRule(
      { id: 'both', scope: { team: 'research' }, over_budget: 'needs_approval', deny_above_usd: '1' },
      'p',
    );
    const outcome = decidePreflight(2n * USD, research, [both], [b]);
    assert.equal(outcome.decision, 'deny');
    assert.deepEqual(
      outcome.reasons.map((r) => [r.code, r.decision]),
      [
        ['above_deny_threshold', 'deny'],
        ['over_budget', 'needs_approval'],
      ],
    );
  });

  it('reservations hold what the spans have not settled yet, approvers and hours come from the rules', () => {
    assert.equal(outstandingReservation(100n, 30n), 70n);
    assert.equal(outstandingReservation(100n, 130n), 0n);
    assert.equal(mayApprove('alice', [fineTunes]), true);
    assert.equal(mayApprove('mallory', [fineTunes]), false);
    assert.equal(mayApprove('mallory', [lenient]), true, 'a rule without approvers lets anyone approve');
    assert.equal(reservationHours(undefined, [fineTunes]), 48);
    assert.equal(reservationHours(500, [fineTunes]), 168, 'capped by the maximum');
    assert.equal(reservationHours(undefined, []), 72);
  });

  it('validates rule documents and names the field to fix', () => {
    const bad: [unknown, RegExp][] = [
      [{ id: 'x', approval_above_usd: '10', deny_above_usd: '5' }, /p\.deny_above_usd: must be at least approval/],
      [{ id: 'x', approval_above_usd: '1.0000000000001' }, /p\.approval_above_usd: must be an exact decimal/],
      [{ id: 'x', over_budget: 'maybe' }, /p\.over_budget: must be deny or needs_approval/],
      [{ id: 'x', scope: { colour: 'red' } }, /p\.scope\.colour: unknown dimension/],
      [{ id: 'x', approvers: ['has space'] }, /p\.approvers/],
      [{ id: 'x', reservation_hours: 0 }, /p\.reservation_hours: must be whole hours/],
      [{ id: 'x', reservation_hours: 100, max_reservation_hours: 10 }, /p\.max_reservation_hours: must be at least/],
      [{ id: 'x', budget: 'y' }, /p\.budget: unknown field/],
      [{ id: '' }, /p\.id/],
    ];
    for (const [doc, message] of bad) assert.throws(() => parsePreflightRule(doc, 'p'), message, JSON.stringify(doc));
    assert.deepEqual(preflightRuleToDocument(fineTunes), {
      id: 'fine-tunes',
      scope: { job_kind: 'fine_tuning' },
      approval_above_usd: '1000',
      deny_above_usd: '25000',
      over_budget: 'deny',
      approvers: ['alice', 'bob'],
      reservation_hours: 48,
      max_reservation_hours: 168,
      webhooks: ['ml'],
    });
  });
});
