import { heartbeatIntervalFor } from './message-log/message-log.js';

/**
 * Aggregator configuration: one typed object, validated once, cross-field rules included.
 * Sources, in precedence order: explicit values passed in code > environment variables >
 * defaults. Errors name the variable and say what to put there. docs/configuration.md
 * lists every variable below.
 */
export interface AggregatorConfig {
  readonly kafkaBrokers: readonly string[];
  readonly kafkaClientId: string;
  /** Topic of OTLP ExportTraceServiceRequest messages (otlp_proto or otlp_json). */
  readonly spansTopic: string;
  /** Where undecodable messages and rejected spans go, with the reason in headers. */
  readonly deadLetterTopic: string;
  readonly consumerGroupId: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly maxBytesPerPartition: number;
  /** Partitions processed concurrently by one consumer (each one stays sequential). */
  readonly partitionsConsumedConcurrently: number;
  /** Largest Kafka message the ingest produces (requests are split below it). */
  readonly maxMessageBytes: number;
  readonly clickhouseUrl: string;
  readonly clickhouseDatabase: string;
  readonly clickhouseUser: string | undefined;
  readonly clickhousePassword: string | undefined;
  /** ClickHouse request timeout; must stay below the session timeout (see SpanConsumer). */
  readonly clickhouseTimeoutMs: number;
  /** OTLP/HTTP receiver. */
  readonly httpHost: string;
  readonly httpPort: number;
  /** OTLP/gRPC receiver. */
  readonly grpcHost: string;
  readonly grpcPort: number;
  /** Query API, /metrics, /healthz, /readyz. */
  readonly apiHost: string;
  readonly apiPort: number;
  /** Largest request body as sent. */
  readonly maxRequestBytes: number;
  /** Largest request body after decompression. */
  readonly maxDecompressedBytes: number;
  /** Export requests produced at once before clients are told to retry. */
  readonly maxInFlightRequests: number;
  /** Rows per ClickHouse insert, at most. */
  readonly maxBatchRows: number;
  /** Distinct values per rollup dimension and hour before folding into __other__. */
  readonly maxDimensionValuesPerHour: number;
  readonly maxSpanAgeSeconds: number;
  readonly maxSpanFutureSeconds: number;
  readonly maxTokensPerSpan: number;
  readonly maxAttributeValueLength: number;
  /** Recompute stamped costs and report differences. */
  readonly auditStampedCosts: boolean;
  /**
   * One model call, one charge: traces remembered per partition by the consumer's ledger
   * (ModelCallLedger); 0 turns detection off (only spans marked by their emitter are uncharged).
   */
  readonly dedupeMaxTraces: number;
  /** How far back (by span start) a new partition owner restores the ledger from stored rows. */
  readonly dedupeRestoreSeconds: number;
  /**
   * A fixed price snapshot document (`costtrace.price-snapshot.v1`) to price from instead of
   * pricing-cache, for air-gapped set-ups; absent: pricing-cache, or the bundled catalog.
   */
  readonly priceSnapshotFile: string | undefined;
  /** pricing-cache's gRPC address (host:port), followed over its watch stream. */
  readonly pricingAddress: string | undefined;
  /** Bearer token for pricing-cache. */
  readonly pricingToken: string | undefined;
  /** TLS to pricing-cache (system roots, or pricingTlsCaFile). */
  readonly pricingTls: boolean;
  /** PEM file of the CA that signed pricing-cache's certificate (implies TLS). */
  readonly pricingTlsCaFile: string | undefined;
  /** Where the last snapshot from pricing-cache is kept across restarts; undefined: not kept. */
  readonly pricingStateFile: string | undefined;
  /** Providers whose models run on your own GPUs: tokens recorded, not billed (as in the SDK). */
  readonly selfHostedProviders: readonly string[];
  /** Per-provider input-token rule, as in the SDK (provider → rule). */
  readonly inputTokenRules: Readonly<Record<string, 'input-includes-cache' | 'input-excludes-cache'>>;
  /** Per-emitter input-token rule (instrumentation scope name → rule), as in the SDK. */
  readonly emitterInputRules: Readonly<Record<string, 'input-includes-cache' | 'input-excludes-cache'>>;
  /** Provider names as emitted (lower-case) → the names prices use, as in the SDK. */
  readonly providerAliases: Readonly<Record<string, string>>;
  readonly retentionSpanDays: number;
  readonly retentionRollupDays: number;
  /** How often the retention job runs; 0 disables it. */
  readonly retentionIntervalSeconds: number;
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

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: use true or false`);
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

/** The aggregator entrypoint's switch for budgets (on|off), read in main.ts. */
export const AGGREGATOR_BUDGETS_SWITCH_ENV = 'COSTTRACE_BUDGETS';

/**
 * Every environment variable loadConfig reads (machine-readable, for deployment checks).
 * A unit test asserts that the loader reads exactly these names, so deploy/ checks can trust them.
 */
export const AGGREGATOR_ENV_VARS: readonly string[] = [
  'CLICKHOUSE_DATABASE',
  'CLICKHOUSE_PASSWORD',
  'CLICKHOUSE_TIMEOUT_MS',
  'CLICKHOUSE_URL',
  'CLICKHOUSE_USER',
  'COSTTRACE_API_HOST',
  'COSTTRACE_API_PORT',
  'COSTTRACE_AUDIT_STAMPED_COSTS',
  'COSTTRACE_CONSUMER_GROUP',
  'COSTTRACE_DEDUPE_MAX_TRACES',
  'COSTTRACE_DEDUPE_RESTORE_SECONDS',
  'COSTTRACE_DLQ_TOPIC',
  'COSTTRACE_EMITTER_INPUT_RULES',
  'COSTTRACE_GRPC_HOST',
  'COSTTRACE_GRPC_PORT',
  'COSTTRACE_HTTP_HOST',
  'COSTTRACE_HTTP_PORT',
  'COSTTRACE_KAFKA_CLIENT_ID',
  'COSTTRACE_KAFKA_MAX_BYTES_PER_PARTITION',
  'COSTTRACE_KAFKA_MAX_MESSAGE_BYTES',
  'COSTTRACE_KAFKA_PARTITIONS_CONCURRENTLY',
  'COSTTRACE_KAFKA_REBALANCE_TIMEOUT_MS',
  'COSTTRACE_KAFKA_SESSION_TIMEOUT_MS',
  'COSTTRACE_LOG_LEVEL',
  'COSTTRACE_MAX_ATTRIBUTE_VALUE_LENGTH',
  'COSTTRACE_MAX_BATCH_ROWS',
  'COSTTRACE_MAX_DECOMPRESSED_BYTES',
  'COSTTRACE_MAX_DIMENSION_VALUES_PER_HOUR',
  'COSTTRACE_MAX_IN_FLIGHT_REQUESTS',
  'COSTTRACE_MAX_REQUEST_BYTES',
  'COSTTRACE_MAX_SPAN_AGE_SECONDS',
  'COSTTRACE_MAX_SPAN_FUTURE_SECONDS',
  'COSTTRACE_MAX_TOKENS_PER_SPAN',
  'COSTTRACE_INPUT_TOKEN_RULES',
  'COSTTRACE_PRICE_SNAPSHOT_FILE',
  'COSTTRACE_PROVIDER_ALIASES',
  'COSTTRACE_PRICING_ADDRESS',
  'COSTTRACE_PRICING_STATE_FILE',
  'COSTTRACE_PRICING_TLS',
  'COSTTRACE_PRICING_TLS_CA_FILE',
  'COSTTRACE_PRICING_TOKEN',
  'COSTTRACE_RETENTION_INTERVAL_SECONDS',
  'COSTTRACE_RETENTION_ROLLUP_DAYS',
  'COSTTRACE_RETENTION_SPAN_DAYS',
  'COSTTRACE_SELF_HOSTED_PROVIDERS',
  'COSTTRACE_SPANS_TOPIC',
  'KAFKA_BROKERS',
];

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
  const sessionTimeoutMs =
    overrides.sessionTimeoutMs ?? integer(env, 'COSTTRACE_KAFKA_SESSION_TIMEOUT_MS', 30_000, 6_000, 300_000);
  const rebalanceTimeoutMs =
    overrides.rebalanceTimeoutMs ?? integer(env, 'COSTTRACE_KAFKA_REBALANCE_TIMEOUT_MS', 60_000, 6_000, 600_000);
  if (rebalanceTimeoutMs < sessionTimeoutMs) {
    throw new ConfigError(
      `COSTTRACE_KAFKA_REBALANCE_TIMEOUT_MS (${rebalanceTimeoutMs}) is below COSTTRACE_KAFKA_SESSION_TIMEOUT_MS (${sessionTimeoutMs}): make it at least as long`,
    );
  }
  const clickhouseTimeoutMs =
    overrides.clickhouseTimeoutMs ??
    integer(env, 'CLICKHOUSE_TIMEOUT_MS', Math.floor(sessionTimeoutMs / 2), 1_000, 300_000);
  // The consumer's last heartbeat may be one heartbeat interval old when an insert starts, and the
  // insert must end before the session could expire (see SpanConsumer.confirmOwnership).
  const insertWindowMs = sessionTimeoutMs - heartbeatIntervalFor(sessionTimeoutMs);
  if (clickhouseTimeoutMs >= insertWindowMs) {
    throw new ConfigError(
      `CLICKHOUSE_TIMEOUT_MS (${clickhouseTimeoutMs}) must be below ${insertWindowMs} (COSTTRACE_KAFKA_SESSION_TIMEOUT_MS ${sessionTimeoutMs} minus one heartbeat interval): an insert must end before the group can hand its partition to another consumer`,
    );
  }
  const maxRequestBytes =
    overrides.maxRequestBytes ?? integer(env, 'COSTTRACE_MAX_REQUEST_BYTES', 8 * 1024 * 1024, 1024, 256 * 1024 * 1024);
  const maxDecompressedBytes =
    overrides.maxDecompressedBytes ??
    integer(env, 'COSTTRACE_MAX_DECOMPRESSED_BYTES', 4 * maxRequestBytes, 1024, 1024 * 1024 * 1024);
  if (maxDecompressedBytes < maxRequestBytes) {
    throw new ConfigError(
      `COSTTRACE_MAX_DECOMPRESSED_BYTES (${maxDecompressedBytes}) is below COSTTRACE_MAX_REQUEST_BYTES (${maxRequestBytes}): make it at least as large`,
    );
  }
  const retentionSpanDays = overrides.retentionSpanDays ?? integer(env, 'COSTTRACE_RETENTION_SPAN_DAYS', 90, 1, 36_500);
  const maxSpanAgeSeconds =
    overrides.maxSpanAgeSeconds ?? integer(env, 'COSTTRACE_MAX_SPAN_AGE_SECONDS', 7 * 86_400, 60, 365 * 86_400);
  if (maxSpanAgeSeconds >= retentionSpanDays * 86_400) {
    throw new ConfigError(
      `COSTTRACE_MAX_SPAN_AGE_SECONDS (${maxSpanAgeSeconds}) must be shorter than COSTTRACE_RETENTION_SPAN_DAYS (${retentionSpanDays} days): accepted spans would land in partitions the retention job drops`,
    );
  }
  const pricing = pricingConfig(overrides, env);
  return {
    ...pricing,
    kafkaBrokers: brokers,
    kafkaClientId: overrides.kafkaClientId ?? env.COSTTRACE_KAFKA_CLIENT_ID ?? 'costtrace-aggregator',
    spansTopic,
    deadLetterTopic: overrides.deadLetterTopic ?? topic(env, 'COSTTRACE_DLQ_TOPIC', `${spansTopic}.dlq`),
    consumerGroupId: overrides.consumerGroupId ?? env.COSTTRACE_CONSUMER_GROUP ?? 'costtrace-aggregator',
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    maxBytesPerPartition:
      overrides.maxBytesPerPartition ??
      integer(env, 'COSTTRACE_KAFKA_MAX_BYTES_PER_PARTITION', 16 * 1024 * 1024, 1024, 512 * 1024 * 1024),
    partitionsConsumedConcurrently:
      overrides.partitionsConsumedConcurrently ?? integer(env, 'COSTTRACE_KAFKA_PARTITIONS_CONCURRENTLY', 3, 1, 64),
    maxMessageBytes:
      overrides.maxMessageBytes ??
      integer(env, 'COSTTRACE_KAFKA_MAX_MESSAGE_BYTES', 900 * 1024, 16 * 1024, 64 * 1024 * 1024),
    clickhouseUrl,
    clickhouseDatabase: database,
    clickhouseUser: overrides.clickhouseUser ?? env.CLICKHOUSE_USER,
    clickhousePassword: overrides.clickhousePassword ?? env.CLICKHOUSE_PASSWORD,
    clickhouseTimeoutMs,
    httpHost: overrides.httpHost ?? env.COSTTRACE_HTTP_HOST ?? '127.0.0.1',
    httpPort: overrides.httpPort ?? integer(env, 'COSTTRACE_HTTP_PORT', 4318, 0, 65535),
    grpcHost: overrides.grpcHost ?? env.COSTTRACE_GRPC_HOST ?? '127.0.0.1',
    grpcPort: overrides.grpcPort ?? integer(env, 'COSTTRACE_GRPC_PORT', 4317, 0, 65535),
    apiHost: overrides.apiHost ?? env.COSTTRACE_API_HOST ?? '127.0.0.1',
    apiPort: overrides.apiPort ?? integer(env, 'COSTTRACE_API_PORT', 8080, 0, 65535),
    maxRequestBytes,
    maxDecompressedBytes,
    maxInFlightRequests:
      overrides.maxInFlightRequests ?? integer(env, 'COSTTRACE_MAX_IN_FLIGHT_REQUESTS', 64, 1, 10_000),
    maxBatchRows: overrides.maxBatchRows ?? integer(env, 'COSTTRACE_MAX_BATCH_ROWS', 100_000, 1, 500_000),
    maxDimensionValuesPerHour:
      overrides.maxDimensionValuesPerHour ??
      integer(env, 'COSTTRACE_MAX_DIMENSION_VALUES_PER_HOUR', 1000, 1, 1_000_000),
    maxSpanAgeSeconds,
    maxSpanFutureSeconds:
      overrides.maxSpanFutureSeconds ?? integer(env, 'COSTTRACE_MAX_SPAN_FUTURE_SECONDS', 3600, 1, 7 * 86_400),
    maxTokensPerSpan: overrides.maxTokensPerSpan ?? integer(env, 'COSTTRACE_MAX_TOKENS_PER_SPAN', 100_000_000, 1, 1e12),
    maxAttributeValueLength:
      overrides.maxAttributeValueLength ?? integer(env, 'COSTTRACE_MAX_ATTRIBUTE_VALUE_LENGTH', 256, 16, 65_536),
    auditStampedCosts: overrides.auditStampedCosts ?? boolean(env, 'COSTTRACE_AUDIT_STAMPED_COSTS', false),
    dedupeMaxTraces: overrides.dedupeMaxTraces ?? integer(env, 'COSTTRACE_DEDUPE_MAX_TRACES', 20_000, 0, 1_000_000),
    dedupeRestoreSeconds:
      overrides.dedupeRestoreSeconds ?? integer(env, 'COSTTRACE_DEDUPE_RESTORE_SECONDS', 6 * 3600, 60, 7 * 86_400),
    retentionSpanDays,
    retentionRollupDays:
      overrides.retentionRollupDays ?? integer(env, 'COSTTRACE_RETENTION_ROLLUP_DAYS', 400, 1, 36_500),
    retentionIntervalSeconds:
      overrides.retentionIntervalSeconds ?? integer(env, 'COSTTRACE_RETENTION_INTERVAL_SECONDS', 3600, 0, 86_400 * 7),
    logLevel: logLevel as AggregatorConfig['logLevel'],
  };
}

/** Default place of the kept price snapshot, relative to the working directory. */
export const DEFAULT_PRICING_STATE_FILE = '.costtrace/price-snapshot.json';

type PricingConfig = Pick<
  AggregatorConfig,
  | 'priceSnapshotFile'
  | 'pricingAddress'
  | 'pricingToken'
  | 'pricingTls'
  | 'pricingTlsCaFile'
  | 'pricingStateFile'
  | 'selfHostedProviders'
  | 'inputTokenRules'
  | 'emitterInputRules'
  | 'providerAliases'
>;

type InputRule = 'input-includes-cache' | 'input-excludes-cache';

/** `key=value,key=value` of an environment variable, each pair checked by `accept`. */
function pairs<V extends string>(
  env: Env,
  name: string,
  accept: (value: string) => value is V,
  example: string,
): Record<string, V> {
  const out: Record<string, V> = {};
  for (const entry of (env[name] ?? '').split(',')) {
    if (entry.trim() === '') continue;
    const at = entry.indexOf('=');
    const key = entry.slice(0, Math.max(at, 0)).trim();
    const value = entry.slice(at + 1).trim();
    if (at <= 0 || key === '' || !accept(value)) {
      throw new ConfigError(`${name} entry ${JSON.stringify(entry)} is invalid: use ${example}`);
    }
    out[key] = value;
  }
  return out;
}

const isInputRule = (value: string): value is InputRule =>
  value === 'input-includes-cache' || value === 'input-excludes-cache';
const isName = (value: string): value is string => /^[A-Za-z0-9._-]{1,100}$/.test(value);

function pricingConfig(overrides: Partial<AggregatorConfig>, env: Env): PricingConfig {
  const priceSnapshotFile = overrides.priceSnapshotFile ?? (env.COSTTRACE_PRICE_SNAPSHOT_FILE || undefined);
  const pricingAddress = overrides.pricingAddress ?? (env.COSTTRACE_PRICING_ADDRESS?.trim() || undefined);
  if (pricingAddress !== undefined && !/^[^:\s/]+:\d{1,5}$/.test(pricingAddress)) {
    throw new ConfigError(
      `COSTTRACE_PRICING_ADDRESS=${JSON.stringify(pricingAddress)} is invalid: use host:port, e.g. pricing-cache:50051`,
    );
  }
  if (pricingAddress !== undefined && priceSnapshotFile !== undefined) {
    throw new ConfigError(
      'COSTTRACE_PRICING_ADDRESS and COSTTRACE_PRICE_SNAPSHOT_FILE are both set: follow pricing-cache or price from a fixed file, not both',
    );
  }
  const pricingToken = overrides.pricingToken ?? (env.COSTTRACE_PRICING_TOKEN || undefined);
  const pricingTlsCaFile = overrides.pricingTlsCaFile ?? (env.COSTTRACE_PRICING_TLS_CA_FILE || undefined);
  const pricingTls =
    overrides.pricingTls ?? (boolean(env, 'COSTTRACE_PRICING_TLS', false) || pricingTlsCaFile !== undefined);
  if (pricingAddress === undefined) {
    for (const [name, set] of [
      ['COSTTRACE_PRICING_TOKEN', pricingToken !== undefined],
      ['COSTTRACE_PRICING_TLS', pricingTls],
    ] as const) {
      if (set)
        throw new ConfigError(`${name} is set without COSTTRACE_PRICING_ADDRESS: set the address of pricing-cache`);
    }
  }
  const stateRaw = overrides.pricingStateFile ?? env.COSTTRACE_PRICING_STATE_FILE;
  const pricingStateFile =
    pricingAddress === undefined
      ? undefined
      : stateRaw === undefined
        ? DEFAULT_PRICING_STATE_FILE
        : stateRaw || undefined;
  const selfHostedProviders =
    overrides.selfHostedProviders ??
    (env.COSTTRACE_SELF_HOSTED_PROVIDERS ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0);
  const inputTokenRules =
    overrides.inputTokenRules ??
    pairs(
      env,
      'COSTTRACE_INPUT_TOKEN_RULES',
      isInputRule,
      'provider=input-includes-cache or provider=input-excludes-cache',
    );
  const emitterInputRules =
    overrides.emitterInputRules ??
    pairs(
      env,
      'COSTTRACE_EMITTER_INPUT_RULES',
      isInputRule,
      'instrumentation-scope=input-includes-cache or …=input-excludes-cache',
    );
  const providerAliases = Object.fromEntries(
    Object.entries(
      overrides.providerAliases ??
        pairs(env, 'COSTTRACE_PROVIDER_ALIASES', isName, 'emitted-name=provider, e.g. my-gateway=openai'),
    ).map(([key, value]) => [key.toLowerCase(), value]),
  );
  return {
    priceSnapshotFile,
    pricingAddress,
    pricingToken,
    pricingTls,
    pricingTlsCaFile,
    pricingStateFile,
    selfHostedProviders,
    inputTokenRules,
    emitterInputRules,
    providerAliases,
  };
}
