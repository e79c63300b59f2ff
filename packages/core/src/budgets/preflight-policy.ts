import { Money, MoneyError } from '../money.js';
import { BudgetError } from './budget-error.js';
import { CompiledScope, parseScopeSelector } from './scope-selector.js';
import type { DimensionValues, ScopeSelector } from './scope-selector.js';

/**
 * Decisions before the spend: a planned job or batch is priced and answered `allow`,
 * `needs_approval` or `deny` by the policy rules under `preflight:` in the budgets file and by
 * the remaining budget of every budget it would land in, spend already reserved by other
 * preflights included. Pure: the aggregator supplies the price, the budgets' state and the clock.
 */

export const PREFLIGHT_DECISIONS = ['allow', 'needs_approval', 'deny'] as const;
export type PreflightDecision = (typeof PREFLIGHT_DECISIONS)[number];

export interface PreflightRule {
  readonly id: string;
  /** Which work the rule covers (any budget dimension, job_id and job_kind included). */
  readonly scope: CompiledScope;
  /** At or above this (pico-USD): needs approval. Undefined: no threshold. */
  readonly approvalAbove: bigint | undefined;
  /** At or above this (pico-USD): denied. */
  readonly denyAbove: bigint | undefined;
  /** What a plan that does not fit in a budget's remaining amount gets. */
  readonly overBudget: 'deny' | 'needs_approval';
  /** Who may approve; empty: anyone the API lets in. */
  readonly approvers: readonly string[];
  /** How long an allowed or approved reservation holds, by default and at most. */
  readonly reservationHours: number;
  readonly maxReservationHours: number;
  /** Webhook endpoint ids of the budgets file (decisions, approvals, reservations). */
  readonly webhooks: readonly string[];
}

/** The YAML/JSON form. */
export interface PreflightRuleDocument {
  id: string;
  scope?: ScopeSelector;
  approval_above_usd?: string;
  deny_above_usd?: string;
  over_budget?: 'deny' | 'needs_approval';
  approvers?: string[];
  reservation_hours?: number;
  max_reservation_hours?: number;
  webhooks?: string[];
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const APPROVER = /^[^\s\p{Cc}]{1,128}$/u;
const FIELDS = new Set([
  'id',
  'scope',
  'approval_above_usd',
  'deny_above_usd',
  'over_budget',
  'approvers',
  'reservation_hours',
  'max_reservation_hours',
  'webhooks',
]);
const MAX_HOURS = 24 * 400;

function usdThreshold(value: unknown, field: string): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number')
    throw new BudgetError('INVALID_BUDGET', field, 'must be an exact decimal USD amount, e.g. "1000"');
  let amount: Money;
  try {
    amount = Money.parse(String(value), 'USD');
  } catch (cause) {
    if (!(cause instanceof MoneyError)) throw cause;
    throw new BudgetError('INVALID_BUDGET', field, `must be an exact decimal USD amount: ${cause.message}`, { cause });
  }
  if (amount.subunits < 0n) throw new BudgetError('INVALID_BUDGET', field, 'must not be negative');
  return amount.subunits;
}

function hours(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_HOURS)
    throw new BudgetError('INVALID_BUDGET', field, `must be whole hours from 1 to ${MAX_HOURS}`);
  return value;
}

/** Validates a rule document; every error names its field and the fix. */
export function parsePreflightRule(raw: unknown, field: string): PreflightRule {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new BudgetError(
      'INVALID_BUDGET',
      field,
      'must be a mapping with id, scope, approval_above_usd, deny_above_usd…',
    );
  const doc = raw as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!FIELDS.has(key))
      throw new BudgetError('INVALID_BUDGET', `${field}.${key}`, `unknown field; use ${[...FIELDS].join(', ')}`);
  }
  if (typeof doc.id !== 'string' || !ID.test(doc.id))
    throw new BudgetError('INVALID_BUDGET', `${field}.id`, 'must be 1-64 of letters, digits, . _ -');
  const approvalAbove = usdThreshold(doc.approval_above_usd, `${field}.approval_above_usd`);
  const denyAbove = usdThreshold(doc.deny_above_usd, `${field}.deny_above_usd`);
  if (approvalAbove !== undefined && denyAbove !== undefined && denyAbove < approvalAbove)
    throw new BudgetError(
      'INVALID_BUDGET',
      `${field}.deny_above_usd`,
      'must be at least approval_above_usd (above it, work is denied without asking)',
    );
  const overBudget = doc.over_budget ?? 'deny';
  if (overBudget !== 'deny' && overBudget !== 'needs_approval')
    throw new BudgetError('INVALID_BUDGET', `${field}.over_budget`, 'must be deny or needs_approval');
  const approvers = doc.approvers ?? [];
  if (
    !Array.isArray(approvers) ||
    approvers.length > 100 ||
    approvers.some((a) => typeof a !== 'string' || !APPROVER.test(a))
  )
    throw new BudgetError(
      'INVALID_BUDGET',
      `${field}.approvers`,
      'must be a list of at most 100 names (1-128 characters, no spaces)',
    );
  const reservationHours = hours(doc.reservation_hours, `${field}.reservation_hours`, 72);
  const maxReservationHours = hours(doc.max_reservation_hours, `${field}.max_reservation_hours`, 720);
  if (maxReservationHours < reservationHours)
    throw new BudgetError('INVALID_BUDGET', `${field}.max_reservation_hours`, 'must be at least reservation_hours');
  const webhooks = doc.webhooks ?? [];
  if (!Array.isArray(webhooks) || webhooks.length > 10 || webhooks.some((w) => typeof w !== 'string' || !ID.test(w)))
    throw new BudgetError('INVALID_BUDGET', `${field}.webhooks`, 'must be a list of at most 10 webhook endpoint ids');
  return {
    id: doc.id,
    scope: new CompiledScope(parseScopeSelector(doc.scope, `${field}.scope`), []),
    approvalAbove,
    denyAbove,
    overBudget,
    approvers: approvers as string[],
    reservationHours,
    maxReservationHours,
    webhooks: webhooks as string[],
  };
}

export function preflightRuleToDocument(rule: PreflightRule): PreflightRuleDocument {
  const usd = (v: bigint | undefined): string | undefined =>
    v === undefined ? undefined : Money.fromSubunits(v, 'USD').toDecimalString();
  const approval = usd(rule.approvalAbove);
  const deny = usd(rule.denyAbove);
  return {
    id: rule.id,
    ...(Object.keys(rule.scope.selector).length > 0 ? { scope: { ...rule.scope.selector } } : {}),
    ...(approval === undefined ? {} : { approval_above_usd: approval }),
    ...(deny === undefined ? {} : { deny_above_usd: deny }),
    over_budget: rule.overBudget,
    ...(rule.approvers.length > 0 ? { approvers: [...rule.approvers] } : {}),
    reservation_hours: rule.reservationHours,
    max_reservation_hours: rule.maxReservationHours,
    webhooks: [...rule.webhooks],
  };
}

/** One budget key the work lands in, as it stands: all amounts pico-USD. */
export interface PreflightBudgetState {
  readonly budgetId: string;
  readonly scopeKey: string;
  readonly limit: bigint;
  readonly spend: bigint;
  /** Outstanding reservations of other preflights on this key. */
  readonly reserved: bigint;
}

export type PreflightReasonCode = 'above_approval_threshold' | 'above_deny_threshold' | 'over_budget';

export interface PreflightReasonDetail {
  readonly code: PreflightReasonCode;
  readonly decision: PreflightDecision;
  readonly rule?: string;
  readonly budgetId?: string;
  readonly scopeKey?: string;
  readonly detail: string;
}

export interface PreflightOutcome {
  readonly decision: PreflightDecision;
  readonly reasons: readonly PreflightReasonDetail[];
  /** Rules that matched the work. */
  readonly rules: readonly PreflightRule[];
}

const SEVERITY: Readonly<Record<PreflightDecision, number>> = { allow: 0, needs_approval: 1, deny: 2 };

function usdText(pico: bigint): string {
  return Money.fromSubunits(pico, 'USD').toDecimalString();
}

/**
 * The decision for `amount` (pico-USD) of work with dimension `values`: the most severe answer
 * of every matching rule's thresholds and every budget's remaining amount (limit − spend −
 * reserved). A budget the work does not fit in answers with the `over_budget` of the matching
 * rules (the most lenient of them: a rule written for this work decides), or `deny` when no
 * rule matches. Amount exactly at a threshold counts as above it.
 */
export function decidePreflight(
  amount: bigint,
  values: DimensionValues,
  allRules: readonly PreflightRule[],
  budgets: readonly PreflightBudgetState[],
): PreflightOutcome {
  const rules = allRules.filter((r) => r.scope.matches(values));
  const reasons: PreflightReasonDetail[] = [];
  for (const rule of rules) {
    if (rule.denyAbove !== undefined && amount >= rule.denyAbove) {
      reasons.push({
        code: 'above_deny_threshold',
        decision: 'deny',
        rule: rule.id,
        detail: `${usdText(amount)} USD is at or above the rule's deny threshold of ${usdText(rule.denyAbove)} USD`,
      });
    } else if (rule.approvalAbove !== undefined && amount >= rule.approvalAbove) {
      reasons.push({
        code: 'above_approval_threshold',
        decision: 'needs_approval',
        rule: rule.id,
        detail: `${usdText(amount)} USD is at or above the rule's approval threshold of ${usdText(rule.approvalAbove)} USD`,
      });
    }
  }
  const overBudget: PreflightDecision =
    rules.length === 0 ? 'deny' : rules.some((r) => r.overBudget === 'needs_approval') ? 'needs_approval' : 'deny';
  for (const b of budgets) {
    const remaining = b.limit - b.spend - b.reserved;
    if (amount > remaining) {
      reasons.push({
        code: 'over_budget',
        decision: overBudget,
        budgetId: b.budgetId,
        scopeKey: b.scopeKey,
        detail:
          `${usdText(amount)} USD does not fit in budget ${b.budgetId}: ${usdText(remaining)} USD remain ` +
          `(limit ${usdText(b.limit)}, spent ${usdText(b.spend)}, reserved ${usdText(b.reserved)})`,
      });
    }
  }
  let decision: PreflightDecision = 'allow';
  for (const r of reasons) if (SEVERITY[r.decision] > SEVERITY[decision]) decision = r.decision;
  return { decision, reasons, rules };
}

/** What a reservation still holds against its budgets: the amount less what the job's spans spent, at least 0. */
export function outstandingReservation(amount: bigint, settled: bigint): bigint {
  const left = amount - settled;
  return left > 0n ? left : 0n;
}

/**
 * Whether `approver` may approve work the `rules` matched: every matching rule that names
 * approvers must name them (no rule naming any: anyone the API lets in).
 */
export function mayApprove(approver: string, rules: readonly PreflightRule[]): boolean {
  return rules.every((r) => r.approvers.length === 0 || r.approvers.includes(approver));
}

/** The reservation's hold: the requested hours, else the shortest default of the rules, capped by their shortest maximum. */
export function reservationHours(requested: number | undefined, rules: readonly PreflightRule[]): number {
  const fallback = rules.length === 0 ? 72 : Math.min(...rules.map((r) => r.reservationHours));
  const max = rules.length === 0 ? 720 : Math.min(...rules.map((r) => r.maxReservationHours));
  return Math.min(requested ?? fallback, max);
}
