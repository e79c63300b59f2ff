// Checks that kafkajs works against a broker: creates a topic, produces, consumes in a consumer
// group, commits offsets and reads them back. Used to choose the pinned Kafka version (docs/deployment.md).
//   node scripts/kafka-compat-check.mjs HOST:PORT
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';

const broker = process.argv[2] ?? '127.0.0.1:19092';
const kafka = new kafkajs.Kafka({ clientId: 'compat-check', brokers: [broker], logLevel: kafkajs.logLevel.ERROR });
const topic = `compat-${randomUUID()}`;
const groupId = `compat-group-${randomUUID()}`;
const steps = [];
const step = async (name, fn) => {
  try {
    await fn();
    steps.push(`ok   ${name}`);
  } catch (err) {
    steps.push(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
    throw err;
  }
};

const admin = kafka.admin();
const producer = kafka.producer();
const consumer = kafka.consumer({ groupId });
let failed = false;
try {
  await step('connect admin', () => admin.connect());
  await step('create topic', async () => {
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    if (!created) throw new Error('createTopics returned false');
  });
  await step('produce 10 messages', async () => {
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: String(i), value: `v${i}` })),
    });
  });
  await step('idempotent producer', async () => {
    const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await idempotent.connect();
    await idempotent.send({ topic, acks: -1, messages: [{ key: 'i', value: 'idempotent' }] });
    await idempotent.disconnect();
  });
  await step('consume in a group and commit', async () => {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let seen = 0;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seen} of 11 messages within 30 s`)), 30_000);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            seen += 1;
            await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
            if (seen === 11) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  });
  await step('fetch committed offsets', async () => {
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const total = offsets[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    if (total !== 11) throw new Error(`committed offsets sum to ${total}, expected 11`);
  });
  await step('list partition offsets (ListOffsets)', async () => {
    const offsets = await admin.fetchTopicOffsets(topic);
    const total = offsets.reduce((sum, p) => sum + Number(p.high), 0);
    if (total !== 11) throw new Error(`high watermarks sum to ${total}, expected 11`);
  });
  await step('describe group', async () => {
    const { groups } = await admin.describeGroups([groupId]);
    if (groups[0]?.groupId !== groupId) throw new Error('group not described');
  });
  await step('delete topic', () => admin.deleteTopics({ topics: [topic] }));
} catch {
  failed = true;
} finally {
  await consumer.disconnect().catch(() => undefined);
  await producer.disconnect().catch(() => undefined);
  await admin.disconnect().catch(() => undefined);
}
console.log(steps.join('\n'));
process.exit(failed ? 1 : 0);
