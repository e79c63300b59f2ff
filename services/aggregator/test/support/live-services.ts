// Helpers for integration tests that connect to the real Kafka and ClickHouse started by
// scripts/services.sh (or given by KAFKA_BROKERS / CLICKHOUSE_URL). Unit tests never import this.
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { pino } from 'pino';
import { KafkaMessageLog } from '../../src/index.js';
import type { MessageLog } from '../../src/index.js';

export function liveServices(): { kafkaBrokers: string[]; clickhouseUrl: string } {
  const brokers = process.env.KAFKA_BROKERS;
  const clickhouseUrl = process.env.CLICKHOUSE_URL;
  if (!brokers || !clickhouseUrl) {
    throw new Error(
      'integration tests need KAFKA_BROKERS and CLICKHOUSE_URL: run them with `npm run test:integration`',
    );
  }
  return { kafkaBrokers: brokers.split(','), clickhouseUrl };
}

/** Names unique to one test run: topics, consumer groups, databases. */
export function uniqueNames(prefix: string): { topic: string; dlqTopic: string; groupId: string; database: string } {
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  return {
    topic: `${prefix}_${id}`,
    dlqTopic: `${prefix}_${id}.dlq`,
    groupId: `${prefix}-group-${id}`,
    database: `ct_${prefix}_${id}`,
  };
}

/**
 * A producer whose retries never write a message twice (idempotent, one request in flight): the
 * tests count stored rows per produced span, and a plain producer's retry after a timeout on a
 * busy machine would put a message in the topic twice.
 */
export function exactProducer(kafka: Kafka): Producer {
  return kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
}

/** The aggregator's message log on the test brokers (what the services under test get). */
export function testMessageLog(brokers: string[]): MessageLog {
  return new KafkaMessageLog({ brokers, clientId: 'costtrace-test', logger: pino({ level: 'silent' }) });
}

export function testKafka(brokers: string[]): Kafka {
  return new kafkajs.Kafka({ clientId: 'costtrace-test', brokers, logLevel: kafkajs.logLevel.NOTHING });
}

export async function createTopics(kafka: Kafka, topics: string[], partitions = 3): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsWithLeaders(
      admin,
      topics.map((topic) => ({ topic, numPartitions: partitions })),
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates topics and waits (30 s at most) until every partition has a leader. kafkajs's own
 * `waitForLeaders` gives up on the UNKNOWN_TOPIC_OR_PARTITION a KRaft broker answers for a moment
 * after the creation; this waits through it.
 */
export async function createTopicsWithLeaders(
  admin: Admin,
  topics: Parameters<Admin['createTopics']>[0]['topics'],
  timeoutMs = 30_000,
): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false });
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: names });
      const ready =
        found.length === names.length &&
        found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (ready) return;
    } catch (err) {
      if (!(err instanceof Error && (err as { retriable?: boolean }).retriable === true)) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leaders after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Creates single-partition `topics` for a test and waits until they have leaders. */
export async function createTestTopics(kafka: Kafka, topics: readonly string[], partitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsWithLeaders(
      admin,
      topics.map((topic) => ({ topic, numPartitions: partitions })),
    );
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Polls `probe` until it returns a value accepted by `done`, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (done(last)) return last;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Exact decimal text (as ClickHouse prints Decimal) → integer count of 10^-12. */
export function decimalToPicos(text: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d{1,12}))?$/.exec(text);
  if (!match) throw new Error(`not a decimal with at most 12 places: ${text}`);
  const value = BigInt(match[2]!) * 10n ** 12n + BigInt((match[3] ?? '').padEnd(12, '0'));
  return match[1] === '-' ? -value : value;
}
