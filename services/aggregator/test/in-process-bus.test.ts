// The in-process bus through the message-log port (InProcessMessageLog): key partitioning,
// offsets, consumer-group commits, redelivery of unresolved batches and after a handler failure,
// pause/resume, and a restart from the files.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { consumerSettings, InProcessBus, InProcessMessageLog } from '../src/index.js';
import { partitionForKey } from '../src/bus/in-process-bus.js';
import type { BatchContext } from '../src/index.js';

const group = (groupId: string, topic: string) => ({
  groupId,
  topic,
  fromBeginning: true,
  settings: consumerSettings(),
});
const lastOf = (context: BatchContext): string => context.batch.messages.at(-1)!.offset;

const logger = pino({ level: 'silent' });

/** Collects delivered values per partition until `done` says stop. */
function collector(): {
  seen: string[];
  waitFor: (n: number) => Promise<void>;
  push: (v: string) => void;
} {
  const seen: string[] = [];
  let notify: (() => void) | undefined;
  return {
    seen,
    push: (v) => {
      seen.push(v);
      notify?.();
    },
    waitFor: (n) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (seen.length >= n) resolve();
          else notify = check;
        };
        check();
      }),
  };
}

describe('InProcessBus', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-bus-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('partitions by key, stably, and numbers offsets per partition', () => {
    const bus = new InProcessBus({ logger, partitions: 4 });
    const a = bus.produce('t', [
      { key: 'svc-a', value: '1' },
      { key: 'svc-a', value: '2' },
      { key: 'svc-b', value: '3' },
    ]);
    assert.equal(a[0]!.partition, a[1]!.partition);
    assert.equal(a[0]!.partition, partitionForKey('svc-a', 4, 0));
    assert.deepEqual([a[0]!.offset, a[1]!.offset], ['0', '1']);
    assert.equal(bus.endOffset('t', a[0]!.partition), 2 + (a[2]!.partition === a[0]!.partition ? 1 : 0));
    bus.close();
  });

  it('delivers in order, commits, and redelivers what was not committed after a restart', async () => {
    const path = join(dir, 'restart');
    const bus = new InProcessBus({ logger, partitions: 2, dataDir: path });
    const producer = new InProcessMessageLog(bus).producer();
    await producer.connect();
    await producer.send(
      'spans',
      [1, 2, 3, 4, 5, 6].map((i) => ({ key: `k${i % 3}`, value: `m${i}` })),
    );
    const got = collector();
    const consumer = new InProcessMessageLog(bus).consumer(group('g1', 'spans'));
    await consumer.start(async (context) => {
      const { batch } = context;
      for (const m of batch.messages) got.push(m.value!.toString());
      const last = lastOf(context);
      context.resolveOffset(last);
      // Commit only partition 0: partition 1 must come again after the restart.
      if (batch.partition === 0) await context.commit(String(BigInt(last) + 1n));
    });
    await got.waitFor(6);
    assert.deepEqual([...got.seen].sort(), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    await consumer.stop();
    bus.close();

    const again = new InProcessBus({ logger, partitions: 2, dataDir: path });
    const expected = [1, 2, 3, 4, 5, 6].filter((i) => partitionForKey(`k${i % 3}`, 2, 0) === 1).map((i) => `m${i}`);
    const redelivered = collector();
    const second = new InProcessMessageLog(again).consumer(group('g1', 'spans'));
    await second.start(async (context) => {
      for (const message of context.batch.messages) redelivered.push(message.value!.toString());
      context.resolveOffset(lastOf(context));
      await context.commit(String(BigInt(lastOf(context)) + 1n));
    });
    await redelivered.waitFor(expected.length);
    assert.deepEqual(redelivered.seen, expected);
    // New messages continue the persisted offsets.
    const [next] = again.produce('spans', [{ key: 'k1', value: 'm7', partition: 1 }]);
    assert.equal(next!.offset, String(again.endOffset('spans', 1) - 1));
    assert.ok(Number(next!.offset) >= expected.length);
    await redelivered.waitFor(expected.length + 1);
    await second.stop();
    assert.equal(again.committed('g1', 'spans', 1), BigInt(next!.offset) + 1n);
    again.close();
  });

  it('redelivers a batch whose handler threw, and one left unresolved after pause/resume', async () => {
    const bus = new InProcessBus({ logger, partitions: 1 });
    bus.produce('t', [{ value: 'a' }, { value: 'b' }]);
    const got = collector();
    let failures = 0;
    let resumeLater: (() => void) | undefined;
    const consumer = new InProcessMessageLog(bus).consumer(group('g', 't'));
    await consumer.start((context) => {
      const values = context.batch.messages.map((m) => m.value!.toString()).join('');
      got.push(values);
      if (failures === 0) {
        failures++;
        return Promise.reject(new Error('store down'));
      }
      if (resumeLater === undefined) {
        resumeLater = context.pause();
        return Promise.resolve();
      }
      context.resolveOffset(lastOf(context));
      return Promise.resolve();
    });
    await got.waitFor(2);
    assert.ok(resumeLater !== undefined);
    resumeLater();
    await got.waitFor(3);
    assert.deepEqual(got.seen, ['ab', 'ab', 'ab']);
    await consumer.stop();
    bus.close();
  });

  it('refuses a second member of a group', async () => {
    const bus = new InProcessBus({ logger });
    const log = new InProcessMessageLog(bus);
    const one = log.consumer(group('same', 't'));
    await one.start(() => Promise.resolve());
    const two = log.consumer(group('same', 't'));
    await assert.rejects(async () => two.start(() => Promise.resolve()), /already has a member/);
    await one.stop();
    bus.close();
  });
});
