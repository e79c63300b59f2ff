import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LogMessage } from '../message-log/message-log.js';

/**
 * An in-process message bus for the embedded mode (`costtrace dev`), in place of Kafka, with the
 * semantics the aggregator relies on: topics of N partitions, the partition chosen by a hash of
 * the message key, per-partition offsets from 0, consumer groups whose committed offsets survive
 * a restart, and redelivery of everything after the committed offset. The log and the offsets
 * are persisted under `dataDir` (one append-only file per partition, one offsets file), so a
 * restarted process continues offsets where it left off: the store's stored-offset skipping
 * stays correct across restarts.
 *
 * `InProcessMessageLog` (message-log/) serves the aggregator's message-log port from it, so the
 * span consumer, the budget relay, evaluator and throttle board run unchanged. One member per
 * consumer group (one process); a second is refused.
 */
export interface InProcessBusOptions {
  /** Folder for the log and offsets; absent: memory only. */
  readonly dataDir?: string | undefined;
  /** Partitions of each topic. Default 3. */
  readonly partitions?: number | undefined;
  /** Messages per delivered batch, at most. Default 500. */
  readonly maxBatchMessages?: number | undefined;
  readonly logger: Logger;
}

type Headers = Record<string, Buffer>;

interface StoredMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Headers;
  readonly timestamp: string;
}

type Offsets = Record<string, Record<string, Record<string, string>>>;

export class BusError extends Error {
  override readonly name = 'BusError';
  constructor(
    readonly code: 'INVALID_CONFIG' | 'GROUP_BUSY' | 'CLOSED' | 'NOT_CONNECTED',
    message: string,
  ) {
    super(message);
  }
}

/** FNV-1a over the key bytes: a stable partition per key. */
export function partitionForKey(key: Buffer | string | null, partitions: number, counter: number): number {
  if (key === null) return counter % partitions;
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash % partitions;
}

function toBuffer(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

export class InProcessBus {
  readonly partitions: number;
  private readonly maxBatch: number;
  private readonly topics = new Map<string, StoredMessage[][]>();
  private offsets: Offsets = {};
  private readonly members = new Set<string>();
  private readonly waiters = new Set<() => void>();
  private producedWithoutKey = 0;
  private closed = false;

  readonly logger: Logger;

  constructor(private readonly options: InProcessBusOptions) {
    this.logger = options.logger;
    this.partitions = options.partitions ?? 3;
    this.maxBatch = options.maxBatchMessages ?? 500;
    if (!Number.isInteger(this.partitions) || this.partitions < 1 || this.partitions > 256) {
      throw new BusError('INVALID_CONFIG', `partitions must be an integer from 1 to 256, got ${this.partitions}`);
    }
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) {
      throw new BusError('INVALID_CONFIG', `maxBatchMessages must be a positive integer, got ${this.maxBatch}`);
    }
    if (options.dataDir !== undefined) this.load(options.dataDir);
  }

  private logDir(topic: string): string {
    return join(this.options.dataDir!, 'log', encodeURIComponent(topic));
  }

  private load(dir: string): void {
    mkdirSync(join(dir, 'log'), { recursive: true });
    const offsetsFile = join(dir, 'offsets.json');
    if (existsSync(offsetsFile)) this.offsets = JSON.parse(readFileSync(offsetsFile, 'utf8')) as Offsets;
    for (const entry of readdirSync(join(dir, 'log'))) {
      const topic = decodeURIComponent(entry);
      const log = this.log(topic, false);
      for (let p = 0; p < this.partitions; p++) {
        const file = join(this.logDir(topic), `${p}.log`);
        if (!existsSync(file)) continue;
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          // A line cut short by a crash is the end of the partition.
          if (line === '' || !line.endsWith('}')) continue;
          const m = JSON.parse(line) as { k: string | null; v: string | null; h: Record<string, string>; t: string };
          const headers: Headers = {};
          for (const [name, value] of Object.entries(m.h)) headers[name] = Buffer.from(value, 'base64');
          log[p]!.push({
            key: m.k === null ? null : Buffer.from(m.k, 'base64'),
            value: m.v === null ? null : Buffer.from(m.v, 'base64'),
            headers,
            timestamp: m.t,
          });
        }
      }
    }
  }

  private log(topic: string, create = true): StoredMessage[][] {
    let log = this.topics.get(topic);
    if (log === undefined) {
      log = Array.from({ length: this.partitions }, () => []);
      this.topics.set(topic, log);
      if (create && this.options.dataDir !== undefined) mkdirSync(this.logDir(topic), { recursive: true });
    }
    return log;
  }

  /** Appends messages; returns their partition and offset. Durable on return when persisted. */
  produce(
    topic: string,
    messages: readonly {
      key?: Buffer | string | null;
      value: Buffer | string | null;
      partition?: number;
      headers?: Readonly<Record<string, Buffer | string>> | undefined;
    }[],
  ): { partition: number; offset: string }[] {
    if (this.closed) throw new BusError('CLOSED', 'the in-process bus is closed');
    const log = this.log(topic);
    const lines = new Map<number, string>();
    const out: { partition: number; offset: string }[] = [];
    for (const m of messages) {
      const key = toBuffer(m.key);
      const partition = m.partition ?? partitionForKey(key, this.partitions, this.producedWithoutKey++);
      if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
        throw new BusError('INVALID_CONFIG', `partition ${partition} does not exist in ${topic}`);
      }
      const headers: Headers = {};
      const stored: Record<string, string> = {};
      for (const [name, value] of Object.entries(m.headers ?? {})) {
        const buffer = toBuffer(value);
        if (buffer === null) continue;
        headers[name] = buffer;
        stored[name] = buffer.toString('base64');
      }
      const message: StoredMessage = { key, value: toBuffer(m.value), headers, timestamp: String(Date.now()) };
      out.push({ partition, offset: String(log[partition]!.length) });
      log[partition]!.push(message);
      if (this.options.dataDir !== undefined) {
        const line = JSON.stringify({
          k: key?.toString('base64') ?? null,
          v: message.value?.toString('base64') ?? null,
          h: stored,
          t: message.timestamp,
        });
        lines.set(partition, `${lines.get(partition) ?? ''}${line}\n`);
      }
    }
    for (const [partition, text] of lines) appendFileSync(join(this.logDir(topic), `${partition}.log`), text);
    this.wake();
    return out;
  }

  /** Offset of the next message of a partition (the high watermark). */
  endOffset(topic: string, partition: number): number {
    return this.log(topic)[partition]?.length ?? 0;
  }

  committed(group: string, topic: string, partition: number): bigint | undefined {
    const text = this.offsets[group]?.[topic]?.[String(partition)];
    return text === undefined ? undefined : BigInt(text);
  }

  commit(group: string, entries: readonly { topic: string; partition: number; offset: string }[]): void {
    if (entries.length === 0) return;
    for (const { topic, partition, offset } of entries) {
      ((this.offsets[group] ??= {})[topic] ??= {})[String(partition)] = BigInt(offset).toString();
    }
    if (this.options.dataDir !== undefined) {
      const file = join(this.options.dataDir, 'offsets.json');
      writeFileSync(`${file}.tmp`, JSON.stringify(this.offsets));
      renameSync(`${file}.tmp`, file);
    }
  }

  messages(topic: string, partition: number, from: number): LogMessage[] {
    const log = this.log(topic)[partition] ?? [];
    return log.slice(from, from + this.maxBatch).map((m, i) => ({
      key: m.key,
      value: m.value,
      headers: m.headers,
      timestamp: m.timestamp,
      offset: String(from + i),
    }));
  }

  /** Resolves on the next produce, commit-independent wake-up or close. */
  waitForChange(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const resolve of waiters) resolve();
  }

  joinGroup(group: string): void {
    if (this.members.has(group)) {
      throw new BusError('GROUP_BUSY', `consumer group ${group} already has a member in this process`);
    }
    this.members.add(group);
  }

  leaveGroup(group: string): void {
    this.members.delete(group);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stops delivery; consumers still running return from their loops. */
  close(): void {
    this.closed = true;
    this.wake();
  }
}
