import { randomBytes } from 'node:crypto';
import {
  decidePreflight,
  formatScaled,
  mayApprove,
  MONEY_SCALE,
  outstandingReservation,
  parseScaled,
  reservationHours,
} from '@costtrace/core';
import type { PreflightBudgetState, PreflightRule, PriceSnapshot } from '@costtrace/core';
import type { PreflightRecord, PreflightStatus } from '@costtrace/client';
import type { JobSpendItem } from '@costtrace/store';
import { HttpError } from '@costtrace/service-kit';
import type { Logger } from 'pino';
import type { BudgetCatalog } from '../budgets/budget-catalog.js';
import type { KeyStatus } from '../budgets/budget-engine.js';
import type { BudgetStore } from '../budgets/budget-store.js';
import { buildEvent, eventId, WEBHOOK_SCHEMA_VERSION } from '../webhooks/webhook-event.js';
import type { WebhookEvent, WebhookEventType } from '../webhooks/webhook-event.js';
import { parsePreflightInput, pricePlan } from './preflight-plan.js';

export interface PreflightServiceOptions {
  /** Where records live (documents of kind `preflight`, latest version wins), shared by every instance. */
  readonly store: BudgetStore;
  readonly rules: () => readonly PreflightRule[];
  readonly catalog: () => BudgetCatalog;
  /** A budget's keys as they stand (local evaluator merged with the persisted state of other instances). */
  readonly status: (budgetId: string) => Promise<{ keys: readonly KeyStatus[] }>;
  /** The snapshot the aggregator prices spans with. */
  readonly snapshot: () => PriceSnapshot;
  /**
   * What the jobs' spans cost since their preflight (pico-USD per job id, one currency); undefined
   * when the store cannot say (reservations then hold until they expire or are released).
   */
  readonly spend: ((items: readonly JobSpendItem[], currency: string) => Promise<Map<string, bigint>>) | undefined;
  /** Signs and delivers (the budgets' webhook dispatcher: outbox, retries, dead letters). */
  readonly publish: (event: WebhookEvent, endpoints: readonly string[]) => Promise<boolean>;
  readonly logger: Logger;
  /** How often reservations are settled against the spans, expired, and other instances' records read. Default 30 s. */
  readonly settleMs?: number | undefined;
  readonly now?: (() => number) | undefined;
}

const FINAL: readonly PreflightStatus[] = ['settled', 'expired', 'released', 'denied', 'rejected'];
/** Final records are kept in memory (listed, counted) this long. */
const KEEP_FINAL_MS = 30 * 86_400_000;
const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const MAX_LIST = 1000;
const HOUR_MS = 3_600_000;

const usd = (pico: bigint): string => formatScaled(pico, MONEY_SCALE);
const pico = (text: string): bigint => parseScaled(text, MONEY_SCALE);
const iso = (ms: number): string => new Date(ms).toISOString();

function newId(): string {
  const bytes = randomBytes(26);
  let id = 'pf_';
  for (const b of bytes) id += ID_ALPHABET[b % 36];
  return id;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Decisions before the spend (POST /v1/preflight): prices a planned job or batch with the live
 * snapshot, answers `allow`, `needs_approval` or `deny` by the budgets file's `preflight:` rules
 * and the remaining budget of every budget the work lands in (reservations of other preflights
 * counted), records the answer, and holds allowed or approved amounts against those budgets until
 * the job's spans have spent them (`settled`), the hold runs out (`expired`) or someone releases
 * it. Every decision and every change of a reservation emits a signed webhook.
 *
 * Records are documents in the budget store, shared by all instances; each instance reads the
 * others' every `settleMs`. Two instances deciding at the same moment do not see each other's
 * reservation until then (documented as a limit of the reservation check).
 */
export class PreflightService {
  private readonly records = new Map<string, PreflightRecord>();
  private readonly versions = new Map<string, bigint>();
  private lastVersion = 0n;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  /** Counters for /metrics and tests. */
  readonly counts = { decided: 0, approved: 0, settled: 0, expired: 0, released: 0, tickFailures: 0 };

  constructor(private readonly options: PreflightServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.refresh();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.ticking;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((err: unknown) => {
          this.counts.tickFailures++;
          this.options.logger.warn({ err }, 'preflight settle failed; trying again at the next interval');
        })
        .finally(() => {
          this.ticking = undefined;
          this.schedule();
        });
    }, this.options.settleMs ?? 30_000);
    this.timer.unref();
  }

  /** Reads records changed by other instances. */
  async refresh(): Promise<void> {
    const horizon = this.now() - KEEP_FINAL_MS;
    for (const doc of await this.options.store.loadDocuments(['preflight'])) {
      if ((this.versions.get(doc.id) ?? -1n) >= doc.version) continue;
      if (doc.version > this.lastVersion) this.lastVersion = doc.version;
      this.versions.set(doc.id, doc.version);
      try {
        const record = JSON.parse(doc.document) as PreflightRecord;
        if (FINAL.includes(record.status) && Date.parse(record.created_at) < horizon) this.records.delete(doc.id);
        else this.records.set(doc.id, record);
      } catch (err) {
        this.options.logger.error({ err, id: doc.id }, 'stored preflight record is invalid; ignored');
      }
    }
  }

  get(id: string): PreflightRecord {
    const record = this.records.get(id);
    if (record === undefined) throw new HttpError(404, 'NOT_FOUND', `no preflight ${id}`);
    return record;
  }

  /** Newest first. */
  list(filter: { status?: PreflightStatus | undefined; jobId?: string | undefined; limit: number }): PreflightRecord[] {
    return [...this.records.values()]
      .filter(
        (r) =>
          (filter.status === undefined || r.status === filter.status) &&
          (filter.jobId === undefined || r.job_id === filter.jobId),
      )
      .sort((a, b) => (a.created_at === b.created_at ? b.id.localeCompare(a.id) : a.created_at < b.created_at ? 1 : -1))
      .slice(0, Math.min(filter.limit, MAX_LIST));
  }

  /** What reservations still hold on a budget key (pico-USD). */
  reservedOn(scopeKey: string, except?: string): bigint {
    let total = 0n;
    for (const r of this.records.values()) {
      if (r.status !== 'reserved' || r.reservation === null || r.id === except) continue;
      if (r.budgets.some((b) => b.scope_key === scopeKey)) total += pico(r.reservation.outstanding_usd);
    }
    return total;
  }

  /** Prices, decides, records and announces one planned job or batch. */
  async request(body: unknown): Promise<PreflightRecord> {
    const input = parsePreflightInput(body);
    const nowMs = this.now();
    const priced = pricePlan(input, this.options.snapshot(), nowMs);
    const budgets: PreflightBudgetState[] = [];
    const endpoints = new Set<string>();
    for (const { budget, scope } of this.options.catalog().matching(input.values)) {
      if (budget.limit.currency !== 'USD') continue;
      const scopeKey = scope.scopeKey(budget.id, input.values);
      const status = await this.options.status(budget.id);
      const key = status.keys.find((k) => k.scopeKey === scopeKey);
      budgets.push({
        budgetId: budget.id,
        scopeKey,
        limit: key?.limit ?? budget.limit.subunits,
        spend: key?.spend ?? 0n,
        reserved: this.reservedOn(scopeKey),
      });
      for (const w of budget.webhooks) endpoints.add(w);
    }
    const outcome = decidePreflight(priced.amount, input.values, this.options.rules(), budgets);
    for (const rule of outcome.rules) for (const w of rule.webhooks) endpoints.add(w);
    const hours = reservationHours(input.reservationHours, outcome.rules);
    const status: PreflightStatus =
      outcome.decision === 'allow' ? 'reserved' : outcome.decision === 'needs_approval' ? 'pending' : 'denied';
    const record: PreflightRecord = {
      id: newId(),
      decision: outcome.decision,
      status,
      job_id: input.jobId === '' ? null : input.jobId,
      job_kind: input.jobKind === '' ? null : input.jobKind,
      dimensions: input.dimensions,
      amount_usd: usd(priced.amount),
      currency: 'USD',
      lines: priced.lines.map((l) => ({ what: l.what, amount_usd: usd(l.amount), price_ids: l.priceIds })),
      pricing_version: priced.pricingVersion,
      reasons: outcome.reasons.map((r) => ({
        code: r.code,
        ...(r.rule === undefined ? {} : { rule: r.rule }),
        ...(r.budgetId === undefined ? {} : { budget_id: r.budgetId }),
        ...(r.scopeKey === undefined ? {} : { scope_key: r.scopeKey }),
        detail: r.detail,
      })),
      rules: outcome.rules.map((r) => r.id),
      budgets: budgets.map((b) => {
        const remaining = b.limit - b.spend - b.reserved;
        return {
          budget_id: b.budgetId,
          scope_key: b.scopeKey,
          limit_usd: usd(b.limit),
          spend_usd: usd(b.spend),
          reserved_usd: usd(b.reserved),
          remaining_usd: usd(remaining),
          remaining_after_usd: usd(remaining - priced.amount),
        };
      }),
      requested_by: input.requestedBy,
      description: input.description,
      created_at: iso(nowMs),
      decided_by: status === 'pending' ? null : 'policy',
      decided_at: status === 'pending' ? null : iso(nowMs),
      note: null,
      // A pending request waits for its approver as long as a reservation would hold.
      reservation: status === 'denied' ? null : this.reservation(priced.amount, 0n, nowMs + hours * HOUR_MS),
    };
    await this.save(record);
    this.counts.decided++;
    await this.announce('preflight.decided', record, [...endpoints]);
    this.options.logger.info(
      { preflight: record.id, jobId: record.job_id, decision: record.decision, amount: record.amount_usd },
      'preflight decided',
    );
    return record;
  }

  /** Approves a pending preflight: the amount is reserved from now for the rules' hold. */
  async approve(id: string, by: string, note: string | undefined): Promise<PreflightRecord> {
    const record = this.get(id);
    if (record.status !== 'pending')
      throw new HttpError(409, 'CONFLICT', `preflight ${id} is ${record.status}: only a pending one can be approved`);
    const rules = this.rulesOf(record);
    if (!mayApprove(by, rules))
      throw new HttpError(
        403,
        'FORBIDDEN',
        `${by} may not approve preflight ${id}: the matching rules name its approvers`,
      );
    const nowMs = this.now();
    const hours = reservationHours(undefined, rules);
    const amount = pico(record.amount_usd);
    const next: PreflightRecord = {
      ...record,
      status: 'reserved',
      decided_by: by,
      decided_at: iso(nowMs),
      note: note ?? null,
      reservation: this.reservation(amount, 0n, nowMs + hours * HOUR_MS),
    };
    await this.save(next);
    this.counts.approved++;
    await this.announce('preflight.approved', next, this.endpointsOf(next));
    return next;
  }

  async reject(id: string, by: string, note: string | undefined): Promise<PreflightRecord> {
    const record = this.get(id);
    if (record.status !== 'pending')
      throw new HttpError(409, 'CONFLICT', `preflight ${id} is ${record.status}: only a pending one can be rejected`);
    if (!mayApprove(by, this.rulesOf(record)))
      throw new HttpError(
        403,
        'FORBIDDEN',
        `${by} may not decide preflight ${id}: the matching rules name its approvers`,
      );
    const next: PreflightRecord = {
      ...record,
      status: 'rejected',
      decided_by: by,
      decided_at: iso(this.now()),
      note: note ?? null,
      reservation: null,
    };
    await this.save(next);
    await this.announce('preflight.rejected', next, this.endpointsOf(next));
    return next;
  }

  /** Frees a reservation (the job was cancelled or is done) or withdraws a pending request. */
  async release(id: string, by: string, note: string | undefined): Promise<PreflightRecord> {
    const record = this.get(id);
    if (record.status !== 'reserved' && record.status !== 'pending')
      throw new HttpError(409, 'CONFLICT', `preflight ${id} is ${record.status}: nothing to release`);
    const next: PreflightRecord = { ...record, status: 'released', note: note ?? `released by ${by}` };
    await this.save(next);
    this.counts.released++;
    await this.announce('preflight.reservation_released', next, this.endpointsOf(next));
    return next;
  }

  /**
   * Reads other instances' records, settles reservations against their jobs' spans, and expires
   * those held past their time (and pending requests nobody decided in that time).
   */
  async tick(): Promise<void> {
    await this.refresh();
    const nowMs = this.now();
    const open = [...this.records.values()].filter((r) => r.status === 'reserved' || r.status === 'pending');
    const withJobs = open.filter((r) => r.status === 'reserved' && r.job_id !== null);
    const spent = new Map<string, bigint>();
    if (this.options.spend !== undefined && withJobs.length > 0) {
      for (let i = 0; i < withJobs.length; i += 500) {
        const items = withJobs.slice(i, i + 500).map((r) => ({
          jobId: r.job_id!,
          sinceSeconds: Math.floor(Date.parse(r.created_at) / 1000),
        }));
        for (const [job, amount] of await this.options.spend(items, 'USD')) spent.set(job, amount);
      }
    }
    for (const record of open) {
      const reservation = record.reservation;
      if (reservation === null) continue;
      const amount = pico(reservation.amount_usd);
      const settled = record.job_id === null ? 0n : (spent.get(record.job_id) ?? pico(reservation.settled_usd));
      const expiresAt = Date.parse(reservation.expires_at);
      let next: Mutable<PreflightRecord> | undefined;
      let type: WebhookEventType | undefined;
      if (record.status === 'reserved' && settled >= amount) {
        next = { ...record, status: 'settled', reservation: this.reservation(amount, settled, expiresAt) };
        type = 'preflight.reservation_settled';
        this.counts.settled++;
      } else if (nowMs >= expiresAt) {
        next = { ...record, status: 'expired', reservation: this.reservation(amount, settled, expiresAt) };
        type = 'preflight.reservation_expired';
        this.counts.expired++;
      } else if (settled !== pico(reservation.settled_usd)) {
        next = { ...record, reservation: this.reservation(amount, settled, expiresAt) };
      }
      if (next === undefined) continue;
      await this.save(next);
      if (type !== undefined) await this.announce(type, next, this.endpointsOf(next));
    }
  }

  private reservation(amount: bigint, settled: bigint, expiresAtMs: number): PreflightRecord['reservation'] {
    return {
      amount_usd: usd(amount),
      settled_usd: usd(settled),
      outstanding_usd: usd(outstandingReservation(amount, settled)),
      expires_at: iso(expiresAtMs),
    };
  }

  /** The rules a record matched that are still in force. */
  private rulesOf(record: PreflightRecord): PreflightRule[] {
    return this.options.rules().filter((r) => record.rules.includes(r.id));
  }

  /** Webhook endpoints of a record: its rules' and its budgets'. */
  private endpointsOf(record: PreflightRecord): string[] {
    const out = new Set<string>();
    for (const r of this.rulesOf(record)) for (const w of r.webhooks) out.add(w);
    const catalog = this.options.catalog();
    for (const b of record.budgets) for (const w of catalog.get(b.budget_id)?.budget.webhooks ?? []) out.add(w);
    return [...out];
  }

  private async save(record: PreflightRecord): Promise<void> {
    const version = BigInt(this.now()) * 1000n;
    this.lastVersion = version > this.lastVersion ? version : this.lastVersion + 1n;
    await this.options.store.saveDocument({
      kind: 'preflight',
      id: record.id,
      version: this.lastVersion,
      deleted: false,
      document: JSON.stringify(record),
    });
    this.versions.set(record.id, this.lastVersion);
    this.records.set(record.id, record);
  }

  private async announce(type: WebhookEventType, record: PreflightRecord, endpoints: readonly string[]): Promise<void> {
    if (endpoints.length === 0) return;
    const nowMs = this.now();
    const payload = {
      schema_version: WEBHOOK_SCHEMA_VERSION,
      // One event per record and change: a repeat (another instance, a restart) has the same id.
      id: eventId(['preflight', record.id, type, record.status]),
      type,
      timestamp: iso(nowMs),
      data: { preflight: record },
    };
    const published = await this.options.publish(
      buildEvent(payload, record.budgets[0]?.budget_id ?? '', record.id),
      endpoints,
    );
    if (!published)
      this.options.logger.warn({ preflight: record.id, type }, 'preflight webhook not recorded (outbox refused it)');
  }
}
