import kafkajs from 'kafkajs';
import type { Kafka, logCreator } from 'kafkajs';
import type { Logger } from 'pino';

/**
 * kafkajs warnings that describe a deliberate choice, not a problem: the idempotent producer
 * has bounded retries so that ingest can answer 503 instead of hanging while Kafka is down.
 */
const QUIET_WARNINGS = [/Limiting retries for the idempotent producer/];

/** A kafkajs client whose log lines go to the service's pino logger. */
export function createKafka(brokers: readonly string[], clientId: string, logger: Logger): Kafka {
  const toPino: logCreator =
    () =>
    ({ level, log }) => {
      const { message, ...fields } = log;
      const child = { ...fields, component: 'kafkajs' };
      if (level === kafkajs.logLevel.ERROR) logger.error(child, message);
      else if (level === kafkajs.logLevel.WARN && !QUIET_WARNINGS.some((re) => re.test(message)))
        logger.warn(child, message);
      else if (level === kafkajs.logLevel.INFO) logger.debug(child, message);
    };
  return new kafkajs.Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: kafkajs.logLevel.WARN,
    logCreator: toPino,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, retries: 8 },
  });
}
