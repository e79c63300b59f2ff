import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { WebhookError } from './webhook-error.js';
import type { WebhookEvent, WebhookEventType } from './webhook-event.js';

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

/** One (event, endpoint) pair to deliver. */
export interface Delivery {
  readonly eventId: string;
  readonly endpointId: string;
  status: DeliveryStatus;
  attempts: number;
  /** First attempt of the current delivery run (a replay starts a new run). */
  firstAttemptAtMs: number | null;
  nextAttemptAtMs: number;
  lastError: string | null;
  lastStatus: number | null;
}

/** One row of the delivery log. */
export interface DeliveryAttempt {
  readonly eventId: string;
  readonly endpointId: string;
  readonly eventType: WebhookEventType;
  readonly budgetId: string;
  readonly attempt: number;
  readonly atMs: number;
  /** HTTP status, or null when no response came (timeout, refused, SSRF). */
  readonly httpStatus: number | null;
  readonly error: string | null;
  readonly durationMs: number;
  /** What happened to the delivery after this attempt. */
  readonly outcome: 'delivered' | 'retry' | 'dead';
  readonly nextAttemptAtMs: number | null;
}

type OutboxRecord =
  | { r: 'event'; event: WebhookEvent; endpoints: string[]; at: number }
  | ({ r: 'attempt' } & DeliveryAttempt)
  | { r: 'endpoint'; endpointId: string; disabled: boolean; reason: string | null; at: number }
  | { r: 'replay'; eventId: string; endpointId: string; at: number }
  | { r: 'dead'; eventId: string; endpointId: string; reason: string; at: number };

export interface OutboxOptions {
  /** Directory of the outbox file (`webhook-outbox.jsonl`). */
  readonly directory: string;
  readonly logger: Logger;
  /** Delivery log rows kept in memory for queries (the file keeps them all until compaction). */
  readonly logCapacity?: number;
  /** Delivered/dead events older than this are dropped at compaction. Default 7 days. */
  readonly retentionMs?: number;
  readonly now?: () => number;
}

const key = (eventId: string, endpointId: string): string => `${eventId}\u0000${endpointId}`;

/**
 * The durable webhook outbox: an append-only JSON-lines file, fsync'd before `enqueue` or
 * `record*` resolve (group commit: concurrent writes share one fdatasync). On open the file is
 * replayed, so a process killed mid-retry resumes every pending delivery with its attempt count;
 * a torn last line from a crash is ignored. The file is compacted at open once it holds
 * delivered/dead events older than the retention.
 *
 * Why a local file and not a ClickHouse table: an alert about money must not depend on the
 * store being up (ClickHouse slow or down is a reason to alert, not a reason to lose alerts),
 * ClickHouse 18.16 has no updates or transactions for a per-attempt state machine, and an
 * fsync'd append costs well under a millisecond on the breach → webhook path. Each evaluator
 * owns its outbox (in Kubernetes: a StatefulSet volume); event ids are deterministic, so an
 * event re-created by another instance after a rebalance has the same id for receivers to dedupe.
 */
export class WebhookOutbox {
  private readonly events = new Map<string, { event: WebhookEvent; endpoints: string[]; atMs: number }>();
  private readonly deliveries = new Map<string, Delivery>();
  /** Keys of pending deliveries, so scheduling never scans delivered history. */
  private readonly pendingKeys = new Set<string>();
  private readonly disabled = new Map<string, { disabled: boolean; reason: string | null }>();
  private readonly log: DeliveryAttempt[] = [];
  private readonly logCapacity: number;
  private pending: string[] = [];
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private readonly now: () => number;
  private closed = false;

  private constructor(
    private readonly path: string,
    private handle: FileHandle,
    private readonly options: OutboxOptions,
  ) {
    this.logCapacity = options.logCapacity ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  static async open(options: OutboxOptions): Promise<WebhookOutbox> {
    const path = join(options.directory, 'webhook-outbox.jsonl');
    await mkdir(dirname(path), { recursive: true });
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new WebhookError('OUTBOX_IO', `cannot read webhook outbox ${path}`, { cause: err });
      }
    }
    const handle = await open(path, 'a');
    const outbox = new WebhookOutbox(path, handle, options);
    const lines = text.split('\n');
    let torn = 0;
    lines.forEach((line, i) => {
      if (line === '') return;
      try {
        outbox.apply(JSON.parse(line) as OutboxRecord);
      } catch (cause) {
        if (i >= lines.length - 2) torn++;
        else
          throw new WebhookError('OUTBOX_CORRUPT', `webhook outbox ${path} line ${i + 1} is not a record`, { cause });
      }
    });
    if (torn > 0) options.logger.warn({ path }, 'ignored a torn last line in the webhook outbox (crash while writing)');
    await outbox.compactIfNeeded((await stat(path)).size);
    const pending = [...outbox.deliveries.values()].filter((d) => d.status === 'pending').length;
    options.logger.info({ path, events: outbox.events.size, pending }, 'webhook outbox opened');
    return outbox;
  }

  /**
   * Adds an event for the given endpoints, durably. Returns false (and writes nothing) when the
   * event id is already known: replays re-create the same ids and must not deliver twice.
   */
  async enqueue(event: WebhookEvent, endpointIds: readonly string[]): Promise<boolean> {
    if (this.events.has(event.id)) return false;
    const record: OutboxRecord = { r: 'event', event, endpoints: [...endpointIds], at: this.now() };
    this.apply(record);
    await this.write(record);
    return true;
  }

  has(eventId: string): boolean {
    return this.events.has(eventId);
  }

  event(eventId: string): WebhookEvent | undefined {
    return this.events.get(eventId)?.event;
  }

  /** Pending deliveries due at `nowMs`, earliest first. */
  due(nowMs: number): Delivery[] {
    return [...this.pendingKeys]
      .map((k) => this.deliveries.get(k)!)
      .filter((d) => d.status === 'pending' && d.nextAttemptAtMs <= nowMs)
      .sort((a, b) => a.nextAttemptAtMs - b.nextAttemptAtMs);
  }

  /** Earliest next attempt among pending deliveries, or undefined. */
  nextDueAtMs(): number | undefined {
    let min: number | undefined;
    for (const k of this.pendingKeys) {
      const d = this.deliveries.get(k)!;
      if (d.status === 'pending' && (min === undefined || d.nextAttemptAtMs < min)) min = d.nextAttemptAtMs;
    }
    return min;
  }

  async recordAttempt(attempt: DeliveryAttempt): Promise<void> {
    const record: OutboxRecord = { r: 'attempt', ...attempt };
    this.apply(record);
    await this.write(record);
  }

  async markDead(eventId: string, endpointId: string, reason: string): Promise<void> {
    const record: OutboxRecord = { r: 'dead', eventId, endpointId, reason, at: this.now() };
    this.apply(record);
    await this.write(record);
  }

  async setEndpointDisabled(endpointId: string, disabled: boolean, reason: string | null): Promise<void> {
    const record: OutboxRecord = { r: 'endpoint', endpointId, disabled, reason, at: this.now() };
    this.apply(record);
    await this.write(record);
  }

  endpointState(endpointId: string): { disabled: boolean; reason: string | null } {
    return this.disabled.get(endpointId) ?? { disabled: false, reason: null };
  }

  /**
   * Schedules a delivered or dead delivery again (manual replay), same event id and body.
   * Without `endpointId`, every endpoint of the event. Returns the deliveries scheduled.
   */
  async replay(eventId: string, endpointId?: string): Promise<Delivery[]> {
    const stored = this.events.get(eventId);
    if (stored === undefined) throw new WebhookError('NOT_FOUND', `no event ${eventId} in the outbox`);
    const targets = endpointId === undefined ? stored.endpoints : [endpointId];
    if (endpointId !== undefined && !stored.endpoints.includes(endpointId)) {
      throw new WebhookError('NOT_FOUND', `event ${eventId} was not addressed to endpoint ${endpointId}`);
    }
    const out: Delivery[] = [];
    for (const ep of targets) {
      const record: OutboxRecord = { r: 'replay', eventId, endpointId: ep, at: this.now() };
      this.apply(record);
      await this.write(record);
      out.push(this.deliveries.get(key(eventId, ep))!);
    }
    return out;
  }

  delivery(eventId: string, endpointId: string): Delivery | undefined {
    return this.deliveries.get(key(eventId, endpointId));
  }

  /** Delivery log, newest first, filtered. */
  attempts(
    filter: { eventId?: string; endpointId?: string; budgetId?: string; outcome?: string; limit?: number } = {},
  ): DeliveryAttempt[] {
    const out: DeliveryAttempt[] = [];
    for (let i = this.log.length - 1; i >= 0 && out.length < (filter.limit ?? 100); i--) {
      const a = this.log[i]!;
      if (filter.eventId !== undefined && a.eventId !== filter.eventId) continue;
      if (filter.endpointId !== undefined && a.endpointId !== filter.endpointId) continue;
      if (filter.budgetId !== undefined && a.budgetId !== filter.budgetId) continue;
      if (filter.outcome !== undefined && a.outcome !== filter.outcome) continue;
      out.push(a);
    }
    return out;
  }

  /** Deliveries by status (e.g. the dead-letter list), newest events first. */
  deliveriesByStatus(
    status?: DeliveryStatus,
    limit = 100,
  ): (Delivery & { eventType: WebhookEventType; budgetId: string })[] {
    const out = [];
    for (const d of this.deliveries.values()) {
      if (status !== undefined && d.status !== status) continue;
      const e = this.events.get(d.eventId)!;
      out.push({ ...d, eventType: e.event.type, budgetId: e.event.budgetId, at: e.atMs });
    }
    return out.sort((a, b) => b.at - a.at).slice(0, limit);
  }

  /** Recent events (for `costtrace budget alerts`), newest first. */
  recentEvents(filter: { budgetId?: string; type?: string; limit?: number } = {}): WebhookEvent[] {
    const out: WebhookEvent[] = [];
    const all = [...this.events.values()].sort((a, b) => b.atMs - a.atMs);
    for (const e of all) {
      if (out.length >= (filter.limit ?? 100)) break;
      if (filter.budgetId !== undefined && e.event.budgetId !== filter.budgetId) continue;
      if (filter.type !== undefined && e.event.type !== filter.type) continue;
      out.push(e.event);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing !== undefined) await this.flushing;
    this.closed = true;
    await this.handle.close();
  }

  private apply(record: OutboxRecord): void {
    this.applyRecord(record);
    if (record.r === 'event') for (const ep of record.endpoints) this.trackPending(key(record.event.id, ep));
    else if (record.r !== 'endpoint') this.trackPending(key(record.eventId, record.endpointId));
  }

  private trackPending(k: string): void {
    if (this.deliveries.get(k)?.status === 'pending') this.pendingKeys.add(k);
    else this.pendingKeys.delete(k);
  }

  private applyRecord(record: OutboxRecord): void {
    switch (record.r) {
      case 'event': {
        this.events.set(record.event.id, { event: record.event, endpoints: record.endpoints, atMs: record.at });
        for (const ep of record.endpoints) {
          this.deliveries.set(key(record.event.id, ep), {
            eventId: record.event.id,
            endpointId: ep,
            status: 'pending',
            attempts: 0,
            firstAttemptAtMs: null,
            nextAttemptAtMs: record.at,
            lastError: null,
            lastStatus: null,
          });
        }
        break;
      }
      case 'attempt': {
        const { r: _r, ...attempt } = record;
        const d = this.deliveries.get(key(record.eventId, record.endpointId));
        if (d !== undefined) {
          d.attempts = Math.max(d.attempts, record.attempt);
          d.firstAttemptAtMs ??= record.atMs;
          d.lastError = record.error;
          d.lastStatus = record.httpStatus;
          d.status = record.outcome === 'retry' ? 'pending' : record.outcome;
          d.nextAttemptAtMs = record.nextAttemptAtMs ?? Number.POSITIVE_INFINITY;
        }
        this.log.push(attempt);
        if (this.log.length > this.logCapacity) this.log.splice(0, this.log.length - this.logCapacity);
        break;
      }
      case 'dead': {
        const d = this.deliveries.get(key(record.eventId, record.endpointId));
        if (d !== undefined) {
          d.status = 'dead';
          d.lastError = record.reason;
          d.nextAttemptAtMs = Number.POSITIVE_INFINITY;
        }
        break;
      }
      case 'endpoint':
        this.disabled.set(record.endpointId, { disabled: record.disabled, reason: record.reason });
        break;
      case 'replay': {
        const d = this.deliveries.get(key(record.eventId, record.endpointId));
        if (d !== undefined) {
          d.status = 'pending';
          d.attempts = 0;
          d.firstAttemptAtMs = null;
          d.nextAttemptAtMs = record.at;
        }
        break;
      }
    }
  }

  private write(record: OutboxRecord): Promise<void> {
    if (this.closed) return Promise.reject(new WebhookError('OUTBOX_IO', 'webhook outbox is closed'));
    this.pending.push(`${JSON.stringify(record)}\n`);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.startFlush();
    return done;
  }

  private startFlush(): void {
    if (this.flushing !== undefined) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.pending.length > 0) this.startFlush();
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const lines = this.pending.join('');
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        await this.handle.appendFile(lines, 'utf8');
        await this.handle.datasync();
        for (const w of waiters) w.resolve();
      } catch (cause) {
        const err = new WebhookError('OUTBOX_IO', `writing the webhook outbox ${this.path} failed`, { cause });
        for (const w of waiters) w.reject(err);
      }
    }
  }

  private async compactIfNeeded(size: number): Promise<void> {
    const retention = this.options.retentionMs ?? 7 * 86_400_000;
    const cutoff = this.now() - retention;
    const stale = [...this.events.entries()].filter(
      ([id, e]) => e.atMs < cutoff && e.endpoints.every((ep) => this.deliveries.get(key(id, ep))?.status !== 'pending'),
    );
    if (stale.length === 0 || size < 1024 * 1024) return;
    for (const [id, e] of stale) {
      this.events.delete(id);
      for (const ep of e.endpoints) {
        this.deliveries.delete(key(id, ep));
        this.pendingKeys.delete(key(id, ep));
      }
    }
    const lines: string[] = [];
    for (const [endpointId, s] of this.disabled) {
      lines.push(JSON.stringify({ r: 'endpoint', endpointId, disabled: s.disabled, reason: s.reason, at: this.now() }));
    }
    for (const e of this.events.values())
      lines.push(JSON.stringify({ r: 'event', event: e.event, endpoints: e.endpoints, at: e.atMs }));
    for (const a of this.log) if (this.events.has(a.eventId)) lines.push(JSON.stringify({ r: 'attempt', ...a }));
    for (const d of this.deliveries.values()) {
      if (d.status === 'dead' && d.attempts === 0) {
        lines.push(
          JSON.stringify({
            r: 'dead',
            eventId: d.eventId,
            endpointId: d.endpointId,
            reason: d.lastError ?? 'dead',
            at: this.now(),
          }),
        );
      }
    }
    const tmp = `${this.path}.compact`;
    const out = await open(tmp, 'w');
    await out.writeFile(lines.length > 0 ? `${lines.join('\n')}\n` : '');
    await out.datasync();
    await out.close();
    await this.handle.close();
    await rename(tmp, this.path);
    this.handle = await open(this.path, 'a');
    this.options.logger.info({ path: this.path, dropped: stale.length }, 'webhook outbox compacted');
  }
}
