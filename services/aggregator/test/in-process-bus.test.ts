// The in-process bus: key partitioning, offsets, consumer-group commits, redelivery of
// unresolved batches and after a handler failure, pause/resume, and a restart from the files.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { EachBatchPayload } from 'kafkajs';
import { InProcessBus, partitionForKey } from '../src/index.js';

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
    const producer = bus.kafka().producer();
    await producer.connect();
    await producer.send({
      topic: 'spans',
      messages: [1, 2, 3, 4, 5, 6].map((i) => ({ key: `k${i % 3}`, value: `m${i}` })),
    });
    const got = collector();
    const consumer = bus.kafka().consumer({ groupId: 'g1' });
    await consumer.subscribe({ topic: 'spans', fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload: EachBatchPayload) => {
        const { batch } = payload;
        for (const m of batch.messages) got.push(m.value!.toString());
        const last = batch.lastOffset();
        payload.resolveOffset(last);
        // Commit only partition 0: partition 1 must come again after the restart.
        if (batch.partition === 0) {
          await payload.commitOffsetsIfNecessary({
            topics: [{ topic: 'spans', partitions: [{ partition: 0, offset: String(BigInt(last) + 1n) }] }],
          });
        }
      },
    });
    await got.waitFor(6);
    assert.deepEqual([...got.seen].sort(), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    await consumer.disconnect();
    bus.close();

    const again = new InProcessBus({ logger, partitions: 2, dataDir: path });
    const expected = [1, 2, 3, 4, 5, 6].filter((i) => partitionForKey(`k${i % 3}`, 2, 0) === 1).map((i) => `m${i}`);
    const redelivered = collector();
    const second = again.kafka().consumer({ groupId: 'g1' });
    await second.subscribe({ topic: 'spans', fromBeginning: true });
    await second.run({
      autoCommit: true,
      eachMessage: ({ message }) => Promise.resolve(redelivered.push(message.value!.toString())),
    });
    await redelivered.waitFor(expected.length);
    assert.deepEqual(redelivered.seen, expected);
    // New messages continue the persisted offsets.
    const [next] = again.produce('spans', [{ key: 'k1', value: 'm7', partition: 1 }]);
    assert.equal(next!.offset, String(again.endOffset('spans', 1) - 1));
    assert.ok(Number(next!.offset) >= expected.length);
    await redelivered.waitFor(expected.length + 1);
    await second.disconnect();
    assert.equal(again.committed('g1', 'spans', 1), BigInt(next!.offset) + 1n);
    again.close();
  });

  it('redelivers a batch whose handler threw, and one left unresolved after pause/resume', async () => {
    const bus = new InProcessBus({ logger, partitions: 1 });
    bus.produce('t', [{ value: 'a' }, { value: 'b' }]);
    const got = collector();
    let failures = 0;
    let resumeLater: (() => void) | undefined;
    const consumer = bus.kafka().consumer({ groupId: 'g' });
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload: EachBatchPayload) => {
        const { batch } = payload;
        const values = batch.messages.map((m) => m.value!.toString()).join('');
        got.push(values);
        if (failures === 0) {
          failures++;
          return Promise.reject(new Error('store down'));
        }
        if (resumeLater === undefined) {
          resumeLater = payload.pause();
          return Promise.resolve();
        }
        payload.resolveOffset(batch.lastOffset());
        return Promise.resolve();
      },
    });
    await got.waitFor(2);
    assert.ok(resumeLater !== undefined);
    resumeLater();
    await got.waitFor(3);
    assert.deepEqual(got.seen, ['ab', 'ab', 'ab']);
    await consumer.disconnect();
    bus.close();
  });

  it('refuses a second member of a group', async () => {
    const bus = new InProcessBus({ logger });
    const one = bus.kafka().consumer({ groupId: 'same' });
    await one.subscribe({ topic: 't' });
    await one.run({ eachMessage: () => Promise.resolve() });
    const two = bus.kafka().consumer({ groupId: 'same' });
    await two.subscribe({ topic: 't' });
    await assert.rejects(async () => two.run({ eachMessage: () => Promise.resolve() }), /already has a member/);
    await one.disconnect();
    bus.close();
  });
});
