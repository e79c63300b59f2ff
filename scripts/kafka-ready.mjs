// Waits until a Kafka broker answers metadata requests: node scripts/kafka-ready.mjs HOST:PORT TIMEOUT_S
// Exit 0 when ready, 1 on timeout. Used by scripts/services.sh.
import kafkajs from 'kafkajs';

const [broker = '127.0.0.1:19092', timeoutArg = '60'] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutArg) * 1000;
const kafka = new kafkajs.Kafka({
  clientId: 'costtrace-ready-check',
  brokers: [broker],
  logLevel: kafkajs.logLevel.NOTHING,
  connectionTimeout: 2000,
  retry: { retries: 0 },
});

let lastError = 'no attempt made';
while (Date.now() < deadline) {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    await admin.listTopics();
    await admin.disconnect();
    if (cluster.brokers.length > 0 && cluster.controller !== null) process.exit(0);
    lastError = 'cluster has no controller yet';
  } catch (err) {
    lastError = err instanceof Error ? err.message : String(err);
    await admin.disconnect().catch(() => undefined);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
console.error(`kafka at ${broker} not ready: ${lastError}`);
process.exit(1);
