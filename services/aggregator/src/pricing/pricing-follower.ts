import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ChannelCredentials } from '@grpc/grpc-js';
import {
  bundledPricingView,
  diffSnapshots,
  overrideToRecord,
  PricingError,
  snapshotDocument,
  viewFromDocumentText,
} from '@costtrace/core';
import type { PriceSource, PricingView } from '@costtrace/core';
import { PricingClient } from '@costtrace/otel';
import type { Logger } from 'pino';

export interface PricingFollowerOptions {
  /** pricing-cache's gRPC address ("host:port"); absent: no pricing-cache (file or bundled prices). */
  readonly address?: string | undefined;
  /** TLS credentials for pricing-cache; default plaintext. */
  readonly credentials?: ChannelCredentials | undefined;
  /** Bearer token pricing-cache expects (sent as `authorization: Bearer …`). */
  readonly token?: string | undefined;
  /**
   * Where the last snapshot received from pricing-cache is kept, so a restart while
   * pricing-cache is down prices with it instead of the bundled catalog.
   */
  readonly stateFile?: string | undefined;
  /** A fixed snapshot document to price from instead of pricing-cache (air-gapped set-ups). */
  readonly snapshotFile?: string | undefined;
  /** Snapshot marked stale after this long without news from pricing-cache. Default 60 000 ms. */
  readonly staleAfterMs?: number | undefined;
  /** Reconnect backoff (see the SDK's PricingClient). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number; readonly jitter?: number } | undefined;
  readonly logger: Logger;
  /** Called for each price change that takes effect before it arrived (counted, logged, never applied to stored rows). */
  readonly onRetroactiveChange?: ((count: number) => void) | undefined;
}

export interface PricingFollowerStatus {
  readonly version: string;
  /** Where the prices in use come from. */
  readonly source: 'pricing-cache' | 'state-file' | 'snapshot-file' | 'bundled';
  readonly stale: boolean;
  readonly connected: boolean;
  /** Snapshot version last written to the state file. */
  readonly persistedVersion: string | undefined;
  readonly retroactiveChanges: number;
  readonly lastError: string | undefined;
}

/**
 * The aggregator's prices: it follows pricing-cache's watch stream (with resume and backoff,
 * the SDK's PricingClient) and keeps the last snapshot on disk. At start it prices from, in
 * order: the snapshot file it was given, the last snapshot it kept, the bundled catalog; then
 * pricing-cache's snapshots as they arrive. `current()` never waits.
 *
 * A snapshot whose changes take effect before it arrived (a retroactive price or override) is
 * used for spans that arrive from then on, priced at their start time; rows already stored keep
 * their cost. Such changes are counted and logged with the `costtrace reprice` range that applies them.
 */
export class PricingFollower implements PriceSource {
  private view: PricingView;
  private origin: PricingFollowerStatus['source'];
  private readonly client: PricingClient | undefined;
  private persisted: string | undefined;
  private persisting: Promise<void> = Promise.resolve();
  private pendingPersist: PricingView | undefined;
  private retroactive = 0;
  private lastError: string | undefined;
  private closed = false;

  private constructor(
    initial: PricingView,
    origin: PricingFollowerStatus['source'],
    private readonly options: PricingFollowerOptions,
  ) {
    this.view = initial;
    this.origin = origin;
    if (origin === 'state-file') this.persisted = initial.snapshot.version.toString();
    if (options.address !== undefined && options.snapshotFile === undefined) {
      this.client = new PricingClient({
        address: options.address,
        credentials: options.credentials,
        token: options.token,
        fallback: initial,
        staleAfterMs: options.staleAfterMs,
        backoff: options.backoff,
        logger: diagLogger(options.logger),
        onSnapshot: (view) => this.received(view),
        env: {},
      });
    }
  }

  /** Loads the starting snapshot and starts following pricing-cache. Invalid files stop the start. */
  static async open(options: PricingFollowerOptions): Promise<PricingFollower> {
    if (options.snapshotFile !== undefined) {
      const view = await readSnapshotFile(options.snapshotFile, false);
      if (view === undefined) {
        throw new PricingError(
          'INVALID_ARGUMENT',
          `price snapshot file ${options.snapshotFile} does not exist: fix COSTTRACE_PRICE_SNAPSHOT_FILE`,
        );
      }
      return new PricingFollower(view, 'snapshot-file', options);
    }
    let kept: PricingView | undefined;
    if (options.stateFile !== undefined) {
      try {
        // The kept snapshot is old by definition: stale until pricing-cache answers.
        kept = await readSnapshotFile(options.stateFile, true);
      } catch (err) {
        // A damaged state file must not keep the aggregator down: it prices from the bundled catalog.
        options.logger.warn(
          { err, stateFile: options.stateFile },
          'cannot read the kept price snapshot; pricing from the bundled catalog until pricing-cache answers',
        );
      }
    }
    const follower = kept
      ? new PricingFollower(kept, 'state-file', options)
      : new PricingFollower(bundledPricingView(options.address !== undefined), 'bundled', options);
    follower.client?.start();
    options.logger.info(
      { version: follower.view.version, source: follower.origin, address: options.address },
      'pricing: starting snapshot',
    );
    return follower;
  }

  current(): PricingView {
    return this.client === undefined ? this.view : this.client.current();
  }

  status(): PricingFollowerStatus {
    const stats = this.client?.stats();
    const view = this.current();
    return {
      version: view.version,
      source: this.origin,
      stale: view.stale,
      connected: stats?.connected ?? false,
      persistedVersion: this.persisted,
      retroactiveChanges: this.retroactive,
      lastError: this.lastError ?? stats?.lastError,
    };
  }

  /** Stops following and finishes writing the state file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client?.shutdown();
    await this.persisting;
  }

  private received(view: PricingView): void {
    const before = this.view;
    this.view = view;
    this.origin = 'pricing-cache';
    this.countRetroactive(before, view, Date.now());
    if (this.options.stateFile !== undefined && view.snapshot.version.toString() !== this.persisted) {
      this.pendingPersist = view;
      this.persisting = this.persisting.then(() => this.persist());
    }
  }

  /** Price or override changes of `after` that take effect before now: counted and logged. */
  private countRetroactive(before: PricingView, after: PricingView, now: number): void {
    const { count, earliest } = retroactiveChanges(before, after, now);
    if (count === 0) return;
    this.retroactive += count;
    this.options.onRetroactiveChange?.(count);
    const since = new Date(earliest).toISOString();
    this.options.logger.warn(
      { version: after.version, changes: count, effectiveFrom: since },
      `pricing: ${after.version} changes ${count} price(s) or override(s) in effect since ${since}, before it arrived; stored rows keep their cost: \`costtrace reprice --since ${since} --snapshot ${this.options.stateFile ?? '<snapshot file>'}\` applies it`,
    );
  }

  private async persist(): Promise<void> {
    const view = this.pendingPersist;
    const path = this.options.stateFile;
    this.pendingPersist = undefined;
    if (view === undefined || path === undefined) return;
    const version = view.snapshot.version.toString();
    if (version === this.persisted) return;
    try {
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(snapshotDocument(view)), { mode: 0o600 });
      // rename is atomic: a crash leaves the previous snapshot or this one, never half of one.
      await rename(temporary, path);
      this.persisted = version;
    } catch (err) {
      this.lastError = `cannot keep the price snapshot in ${path}: ${(err as Error).message}`;
      this.options.logger.error({ err, stateFile: path }, 'pricing: cannot keep the price snapshot');
    }
  }
}

/**
 * The prices and overrides of `after` that are new or changed against `before` and take effect
 * before `now` (epoch ms): spans already priced before `after` arrived may have been priced
 * differently. The first snapshot from pricing-cache after the bundled catalog is no change.
 */
export function retroactiveChanges(
  before: PricingView,
  after: PricingView,
  now: number,
): { readonly count: number; readonly earliest: number } {
  if (before.source !== 'pricing-cache') return { count: 0, earliest: Number.POSITIVE_INFINITY };
  let earliest = Number.POSITIVE_INFINITY;
  let count = 0;
  const note = (effectiveFrom: number): void => {
    if (effectiveFrom >= now) return;
    count++;
    earliest = Math.min(earliest, effectiveFrom);
  };
  const diff = diffSnapshots(before.snapshot, after.snapshot);
  for (const price of diff.upserted) note(price.effectiveFrom);
  if (diff.overridesChanged) {
    const known = new Set(before.snapshot.overrides.map((o) => JSON.stringify(overrideToRecord(o))));
    for (const o of after.snapshot.overrides) {
      if (!known.has(JSON.stringify(overrideToRecord(o)))) note(o.effectiveFrom);
    }
  }
  return { count, earliest };
}

/** A snapshot document from disk (`costtrace reprice --snapshot`, COSTTRACE_PRICE_SNAPSHOT_FILE). */
export async function readPriceSnapshotFile(path: string): Promise<PricingView> {
  const view = await readSnapshotFile(path, false);
  if (view === undefined) throw new PricingError('INVALID_ARGUMENT', `price snapshot file ${path} does not exist`);
  return view;
}

/** A snapshot document from disk; undefined when the file does not exist. */
async function readSnapshotFile(path: string, stale: boolean): Promise<PricingView | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PricingError('INVALID_ARGUMENT', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return viewFromDocumentText(text, path, stale);
}

/** The SDK client's DiagLogger calls, onto pino. */
function diagLogger(logger: Logger) {
  return {
    error: (message: string, ...args: unknown[]) => logger.error({ args }, message),
    warn: (message: string, ...args: unknown[]) => logger.warn({ args }, message),
    info: (message: string, ...args: unknown[]) => logger.info({ args }, message),
    debug: (message: string, ...args: unknown[]) => logger.debug({ args }, message),
    verbose: (message: string, ...args: unknown[]) => logger.trace({ args }, message),
  };
}
