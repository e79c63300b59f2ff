/**
 * Aggregator configuration: one typed object, validated once. Sources, in precedence order:
 * explicit values passed in code > environment variables > defaults. Errors name the variable
 * and say what to put there.
 */
export interface AggregatorConfig {
  readonly kafkaBrokers: readonly string[];
  readonly kafkaClientId: string;
  /** Topic of OTLP ExportTraceServiceRequest messages (otlp_proto). */
  readonly spansTopic: string;
  /** Where undecodable or invalid messages go, with the reason in headers. */
  readonly deadLetterTopic: string;
  readonly consumerGroupId: string;
  readonly clickhouseUrl: string;
  readonly clickhouseDatabase: string;
  readonly clickhouseUser: string | undefined;
  readonly clickhousePassword: string | undefined;
  /** OTLP/HTTP ingest listen address. */
  readonly httpHost: string;
  readonly httpPort: number;
  /** Largest accepted request body, after decompression. */
  readonly maxRequestBytes: number;
  /** Rows per ClickHouse insert, at most. */
  readonly maxBatchRows: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: use an integer from ${min} to ${max}`);
  }
  return value;
}

function topic(env: Env, name: string, fallback: string): string {
  const value = env[name] ?? fallback;
  if (!TOPIC.test(value)) {
    throw new ConfigError(
      `${name}=${JSON.stringify(value)} is not a valid Kafka topic name: use letters, digits, '.', '_' or '-'`,
    );
  }
  return value;
}

/** Builds the configuration from `overrides` and the environment (process.env by default). */
export function loadConfig(overrides: Partial<AggregatorConfig> = {}, env: Env = process.env): AggregatorConfig {
  const brokers =
    overrides.kafkaBrokers ??
    (env.KAFKA_BROKERS ?? '127.0.0.1:9092')
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0);
  if (brokers.length === 0) throw new ConfigError('KAFKA_BROKERS is empty: list brokers as host:port[,host:port]');
  for (const broker of brokers) {
    if (!/^[^:\s]+:\d{1,5}$/.test(broker)) {
      throw new ConfigError(
        `KAFKA_BROKERS entry ${JSON.stringify(broker)} is invalid: use host:port, e.g. 127.0.0.1:9092`,
      );
    }
  }
  const clickhouseUrl = overrides.clickhouseUrl ?? env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
  try {
    const parsed = new URL(clickhouseUrl);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigError(`CLICKHOUSE_URL=${JSON.stringify(clickhouseUrl)} is invalid: use http(s)://host:port`);
  }
  const logLevel = overrides.logLevel ?? env.COSTTRACE_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(
      `COSTTRACE_LOG_LEVEL=${JSON.stringify(logLevel)} is invalid: use one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const database = overrides.clickhouseDatabase ?? env.CLICKHOUSE_DATABASE ?? 'costtrace';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(database)) {
    throw new ConfigError(`CLICKHOUSE_DATABASE=${JSON.stringify(database)} is invalid: use letters, digits and _`);
  }
  const spansTopic = overrides.spansTopic ?? topic(env, 'COSTTRACE_SPANS_TOPIC', 'otlp_spans');
  return {
    kafkaBrokers: brokers,
    kafkaClientId: overrides.kafkaClientId ?? env.COSTTRACE_KAFKA_CLIENT_ID ?? 'costtrace-aggregator',
    spansTopic,
    deadLetterTopic: overrides.deadLetterTopic ?? topic(env, 'COSTTRACE_DLQ_TOPIC', `${spansTopic}.dlq`),
    consumerGroupId: overrides.consumerGroupId ?? env.COSTTRACE_CONSUMER_GROUP ?? 'costtrace-aggregator',
    clickhouseUrl,
    clickhouseDatabase: database,
    clickhouseUser: overrides.clickhouseUser ?? env.CLICKHOUSE_USER,
    clickhousePassword: overrides.clickhousePassword ?? env.CLICKHOUSE_PASSWORD,
    httpHost: overrides.httpHost ?? env.COSTTRACE_HTTP_HOST ?? '127.0.0.1',
    httpPort: overrides.httpPort ?? integer(env, 'COSTTRACE_HTTP_PORT', 4318, 0, 65535),
    maxRequestBytes:
      overrides.maxRequestBytes ??
      integer(env, 'COSTTRACE_MAX_REQUEST_BYTES', 8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    maxBatchRows: overrides.maxBatchRows ?? integer(env, 'COSTTRACE_MAX_BATCH_ROWS', 50_000, 1, 1_000_000),
    logLevel: logLevel as AggregatorConfig['logLevel'],
  };
}
