import { availableParallelism } from 'node:os';
import {
  choice,
  commaList,
  ConfigError,
  envReader,
  envSchema,
  flag,
  hostPort,
  httpUrl,
  integer,
  keyValuePairs,
  LOG_LEVELS,
  optional,
  pattern,
  secret,
  text,
  topicName,
} from '@costtrace/service-kit';
import type { Env, EnvReader } from '@costtrace/service-kit';
import { heartbeatIntervalFor } from './message-log/message-log.js';

export { ConfigError };

/**
 * Aggregator configuration: one typed object, validated once, cross-field rules included.
 * Sources, in precedence order: explicit values passed in code > environment variables >
 * defaults. Every variable is checked against AGGREGATOR_ENV (a zod schema); errors name the
 * variable and say what to put there. docs/configuration.md lists every variable below.
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
  /**
   * A fetch waits for this many bytes (Kafka's fetch.min.bytes), at most fetchMaxWaitMs: larger
   * values mean fewer, larger ClickHouse inserts at moderate rates, and up to fetchMaxWaitMs more
   * latency (the budget webhooks' too).
   */
  readonly fetchMinBytes: number;
  readonly fetchMaxWaitMs: number;
  /** Partitions processed concurrently by one consumer (each one stays sequential). */
  readonly partitionsConsumedConcurrently: number;
  /**
   * Worker threads that decode, validate, price and encode the consumer's batches (each
   * partition always in the same one); 0: the consumer's own thread.
   */
  readonly workerThreads: number;
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

type InputRule = 'input-includes-cache' | 'input-excludes-cache';
const INPUT_RULES = ['input-includes-cache', 'input-excludes-cache'] as const satisfies readonly InputRule[];
const MIB = 1024 * 1024;

/** Default place of the kept price snapshot, relative to the working directory. */
export const DEFAULT_PRICING_STATE_FILE = '.costtrace/price-snapshot.json';

/**
 * The aggregator's environment: each variable's schema and default. Defaults that follow from
 * other settings (noted below) and the rules between settings are applied in loadConfig.
 */
const AGGREGATOR_ENV = envSchema({
  KAFKA_BROKERS: commaList(hostPort('127.0.0.1:9092'), 'use host:port[,host:port], e.g. 127.0.0.1:9092').default([
    '127.0.0.1:9092',
  ]),
  COSTTRACE_KAFKA_CLIENT_ID: text().default('costtrace-aggregator'),
  COSTTRACE_SPANS_TOPIC: topicName().default('otlp_spans'),
  /** Default: `<spans topic>.dlq`. */
  COSTTRACE_DLQ_TOPIC: topicName().optional(),
  COSTTRACE_CONSUMER_GROUP: text().default('costtrace-aggregator'),
  COSTTRACE_KAFKA_SESSION_TIMEOUT_MS: integer(6_000, 300_000, 30_000),
  COSTTRACE_KAFKA_REBALANCE_TIMEOUT_MS: integer(6_000, 600_000, 60_000),
  COSTTRACE_KAFKA_MAX_BYTES_PER_PARTITION: integer(1024, 512 * MIB, 16 * MIB),
  COSTTRACE_KAFKA_PARTITIONS_CONCURRENTLY: integer(1, 64, 3),
  COSTTRACE_KAFKA_FETCH_MIN_BYTES: integer(1, 64 * MIB, 1),
  COSTTRACE_KAFKA_FETCH_MAX_WAIT_MS: integer(10, 10_000, 500),
  /** Default: the cores this process may use (os.availableParallelism()), at most 16. */
  COSTTRACE_WORKER_THREADS: integer(0, 64),
  COSTTRACE_KAFKA_MAX_MESSAGE_BYTES: integer(16 * 1024, 64 * MIB, 900 * 1024),
  CLICKHOUSE_URL: httpUrl().default('http://127.0.0.1:8123'),
  CLICKHOUSE_DATABASE: pattern(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'use letters, digits and _').default('costtrace'),
  CLICKHOUSE_USER: text().optional(),
  CLICKHOUSE_PASSWORD: secret(text().optional()),
  /** Default: half the session timeout. */
  CLICKHOUSE_TIMEOUT_MS: integer(1_000, 300_000),
  COSTTRACE_HTTP_HOST: text().default('127.0.0.1'),
  COSTTRACE_HTTP_PORT: integer(0, 65535, 4318),
  COSTTRACE_GRPC_HOST: text().default('127.0.0.1'),
  COSTTRACE_GRPC_PORT: integer(0, 65535, 4317),
  COSTTRACE_API_HOST: text().default('127.0.0.1'),
  COSTTRACE_API_PORT: integer(0, 65535, 8080),
  COSTTRACE_MAX_REQUEST_BYTES: integer(1024, 256 * MIB, 8 * MIB),
  /** Default: 4 × the request limit. */
  COSTTRACE_MAX_DECOMPRESSED_BYTES: integer(1024, 1024 * MIB),
  COSTTRACE_MAX_IN_FLIGHT_REQUESTS: integer(1, 10_000, 64),
  COSTTRACE_MAX_BATCH_ROWS: integer(1, 500_000, 100_000),
  COSTTRACE_MAX_DIMENSION_VALUES_PER_HOUR: integer(1, 1_000_000, 1000),
  COSTTRACE_MAX_SPAN_AGE_SECONDS: integer(60, 365 * 86_400, 7 * 86_400),
  COSTTRACE_MAX_SPAN_FUTURE_SECONDS: integer(1, 7 * 86_400, 3600),
  COSTTRACE_MAX_TOKENS_PER_SPAN: integer(1, 1e12, 100_000_000),
  COSTTRACE_MAX_ATTRIBUTE_VALUE_LENGTH: integer(16, 65_536, 256),
  COSTTRACE_AUDIT_STAMPED_COSTS: flag(false),
  COSTTRACE_DEDUPE_MAX_TRACES: integer(0, 1_000_000, 20_000),
  COSTTRACE_DEDUPE_RESTORE_SECONDS: integer(60, 7 * 86_400, 6 * 3600),
  COSTTRACE_PRICE_SNAPSHOT_FILE: optional(text()),
  COSTTRACE_PRICING_ADDRESS: optional(hostPort('pricing-cache:50051')),
  COSTTRACE_PRICING_TOKEN: secret(optional(text())),
  /** Setting a CA file turns TLS on too. */
  COSTTRACE_PRICING_TLS: flag(false),
  COSTTRACE_PRICING_TLS_CA_FILE: optional(text()),
  /** Default (with a pricing address): DEFAULT_PRICING_STATE_FILE; empty: not kept. */
  COSTTRACE_PRICING_STATE_FILE: text().optional(),
  COSTTRACE_SELF_HOSTED_PROVIDERS: commaList(text()).default([]),
  COSTTRACE_INPUT_TOKEN_RULES: keyValuePairs(
    choice(INPUT_RULES),
    'use provider=input-includes-cache or provider=input-excludes-cache',
  ).default({}),
  COSTTRACE_EMITTER_INPUT_RULES: keyValuePairs(
    choice(INPUT_RULES),
    'use instrumentation-scope=input-includes-cache or …=input-excludes-cache',
  ).default({}),
  COSTTRACE_PROVIDER_ALIASES: keyValuePairs(
    pattern(/^[A-Za-z0-9._-]{1,100}$/, "use letters, digits, '.', '_' or '-'"),
    'use emitted-name=provider, e.g. my-gateway=openai',
  ).default({}),
  COSTTRACE_RETENTION_SPAN_DAYS: integer(1, 36_500, 90),
  COSTTRACE_RETENTION_ROLLUP_DAYS: integer(1, 36_500, 400),
  COSTTRACE_RETENTION_INTERVAL_SECONDS: integer(0, 7 * 86_400, 3600),
  COSTTRACE_LOG_LEVEL: choice(LOG_LEVELS).default('info'),
});

type AggregatorEnv = EnvReader<(typeof AGGREGATOR_ENV)['shape']>;

/** The aggregator entrypoint's switch for budgets (on|off), read in main.ts. */
export const AGGREGATOR_BUDGETS_SWITCH_ENV = 'COSTTRACE_BUDGETS';

/**
 * Every environment variable loadConfig reads (machine-readable, for deployment checks): the
 * variables of AGGREGATOR_ENV. A unit test asserts that the loader reads exactly these names, so deploy/
 * checks can trust them.
 */
export const AGGREGATOR_ENV_VARS: readonly string[] = Object.keys(AGGREGATOR_ENV.shape).sort();

/** Builds the configuration from `overrides` and the environment (process.env by default). */
export function loadConfig(overrides: Partial<AggregatorConfig> = {}, env: Env = process.env): AggregatorConfig {
  const { read, check } = envReader(AGGREGATOR_ENV, env);
  // These are checked whether they come from code or from the environment.
  const kafkaBrokers = read('KAFKA_BROKERS', overrides.kafkaBrokers);
  const clickhouseUrl = read('CLICKHOUSE_URL', overrides.clickhouseUrl);
  const logLevel = read('COSTTRACE_LOG_LEVEL', overrides.logLevel);
  const clickhouseDatabase = read('CLICKHOUSE_DATABASE', overrides.clickhouseDatabase);
  const spansTopic = overrides.spansTopic ?? read('COSTTRACE_SPANS_TOPIC');
  const sessionTimeoutMs = overrides.sessionTimeoutMs ?? read('COSTTRACE_KAFKA_SESSION_TIMEOUT_MS');
  const rebalanceTimeoutMs = overrides.rebalanceTimeoutMs ?? read('COSTTRACE_KAFKA_REBALANCE_TIMEOUT_MS');
  if (rebalanceTimeoutMs < sessionTimeoutMs) {
    throw new ConfigError(
      `COSTTRACE_KAFKA_REBALANCE_TIMEOUT_MS (${rebalanceTimeoutMs}) is below COSTTRACE_KAFKA_SESSION_TIMEOUT_MS (${sessionTimeoutMs}): make it at least as long`,
      { variable: 'COSTTRACE_KAFKA_REBALANCE_TIMEOUT_MS' },
    );
  }
  const clickhouseTimeoutMs =
    overrides.clickhouseTimeoutMs ?? read('CLICKHOUSE_TIMEOUT_MS') ?? Math.floor(sessionTimeoutMs / 2);
  // The consumer's last heartbeat may be one heartbeat interval old when an insert starts, and the
  // insert must end before the session could expire (see SpanConsumer.confirmOwnership).
  const insertWindowMs = sessionTimeoutMs - heartbeatIntervalFor(sessionTimeoutMs);
  if (clickhouseTimeoutMs >= insertWindowMs) {
    throw new ConfigError(
      `CLICKHOUSE_TIMEOUT_MS (${clickhouseTimeoutMs}) must be below ${insertWindowMs} (COSTTRACE_KAFKA_SESSION_TIMEOUT_MS ${sessionTimeoutMs} minus one heartbeat interval): an insert must end before the group can hand its partition to another consumer`,
      { variable: 'CLICKHOUSE_TIMEOUT_MS' },
    );
  }
  const fetchMaxWaitMs = overrides.fetchMaxWaitMs ?? read('COSTTRACE_KAFKA_FETCH_MAX_WAIT_MS');
  // kafkajs heartbeats between fetches: a fetch held longer than the heartbeat interval would let
  // the session lapse under a slow topic.
  if (fetchMaxWaitMs > heartbeatIntervalFor(sessionTimeoutMs)) {
    throw new ConfigError(
      `COSTTRACE_KAFKA_FETCH_MAX_WAIT_MS (${fetchMaxWaitMs}) must be at most ${heartbeatIntervalFor(sessionTimeoutMs)} (the heartbeat interval, a tenth of COSTTRACE_KAFKA_SESSION_TIMEOUT_MS ${sessionTimeoutMs}, at least 500 ms): lower it or raise the session timeout`,
      { variable: 'COSTTRACE_KAFKA_FETCH_MAX_WAIT_MS' },
    );
  }
  const maxRequestBytes = overrides.maxRequestBytes ?? read('COSTTRACE_MAX_REQUEST_BYTES');
  const maxDecompressedBytes =
    overrides.maxDecompressedBytes ?? read('COSTTRACE_MAX_DECOMPRESSED_BYTES') ?? 4 * maxRequestBytes;
  if (maxDecompressedBytes < maxRequestBytes) {
    throw new ConfigError(
      `COSTTRACE_MAX_DECOMPRESSED_BYTES (${maxDecompressedBytes}) is below COSTTRACE_MAX_REQUEST_BYTES (${maxRequestBytes}): make it at least as large`,
      { variable: 'COSTTRACE_MAX_DECOMPRESSED_BYTES' },
    );
  }
  const retentionSpanDays = overrides.retentionSpanDays ?? read('COSTTRACE_RETENTION_SPAN_DAYS');
  const maxSpanAgeSeconds = overrides.maxSpanAgeSeconds ?? read('COSTTRACE_MAX_SPAN_AGE_SECONDS');
  if (maxSpanAgeSeconds >= retentionSpanDays * 86_400) {
    throw new ConfigError(
      `COSTTRACE_MAX_SPAN_AGE_SECONDS (${maxSpanAgeSeconds}) must be shorter than COSTTRACE_RETENTION_SPAN_DAYS (${retentionSpanDays} days): accepted spans would land in partitions the retention job drops`,
      { variable: 'COSTTRACE_MAX_SPAN_AGE_SECONDS' },
    );
  }
  const pricing = pricingConfig(overrides, read);
  return {
    ...pricing,
    kafkaBrokers,
    kafkaClientId: overrides.kafkaClientId ?? read('COSTTRACE_KAFKA_CLIENT_ID'),
    spansTopic,
    deadLetterTopic:
      overrides.deadLetterTopic ?? read('COSTTRACE_DLQ_TOPIC') ?? check('COSTTRACE_DLQ_TOPIC', `${spansTopic}.dlq`),
    consumerGroupId: overrides.consumerGroupId ?? read('COSTTRACE_CONSUMER_GROUP'),
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    maxBytesPerPartition: overrides.maxBytesPerPartition ?? read('COSTTRACE_KAFKA_MAX_BYTES_PER_PARTITION'),
    partitionsConsumedConcurrently:
      overrides.partitionsConsumedConcurrently ?? read('COSTTRACE_KAFKA_PARTITIONS_CONCURRENTLY'),
    fetchMinBytes: overrides.fetchMinBytes ?? read('COSTTRACE_KAFKA_FETCH_MIN_BYTES'),
    fetchMaxWaitMs,
    workerThreads: overrides.workerThreads ?? read('COSTTRACE_WORKER_THREADS') ?? Math.min(16, availableParallelism()),
    maxMessageBytes: overrides.maxMessageBytes ?? read('COSTTRACE_KAFKA_MAX_MESSAGE_BYTES'),
    clickhouseUrl,
    clickhouseDatabase,
    clickhouseUser: overrides.clickhouseUser ?? read('CLICKHOUSE_USER'),
    clickhousePassword: overrides.clickhousePassword ?? read('CLICKHOUSE_PASSWORD'),
    clickhouseTimeoutMs,
    httpHost: overrides.httpHost ?? read('COSTTRACE_HTTP_HOST'),
    httpPort: overrides.httpPort ?? read('COSTTRACE_HTTP_PORT'),
    grpcHost: overrides.grpcHost ?? read('COSTTRACE_GRPC_HOST'),
    grpcPort: overrides.grpcPort ?? read('COSTTRACE_GRPC_PORT'),
    apiHost: overrides.apiHost ?? read('COSTTRACE_API_HOST'),
    apiPort: overrides.apiPort ?? read('COSTTRACE_API_PORT'),
    maxRequestBytes,
    maxDecompressedBytes,
    maxInFlightRequests: overrides.maxInFlightRequests ?? read('COSTTRACE_MAX_IN_FLIGHT_REQUESTS'),
    maxBatchRows: overrides.maxBatchRows ?? read('COSTTRACE_MAX_BATCH_ROWS'),
    maxDimensionValuesPerHour: overrides.maxDimensionValuesPerHour ?? read('COSTTRACE_MAX_DIMENSION_VALUES_PER_HOUR'),
    maxSpanAgeSeconds,
    maxSpanFutureSeconds: overrides.maxSpanFutureSeconds ?? read('COSTTRACE_MAX_SPAN_FUTURE_SECONDS'),
    maxTokensPerSpan: overrides.maxTokensPerSpan ?? read('COSTTRACE_MAX_TOKENS_PER_SPAN'),
    maxAttributeValueLength: overrides.maxAttributeValueLength ?? read('COSTTRACE_MAX_ATTRIBUTE_VALUE_LENGTH'),
    auditStampedCosts: overrides.auditStampedCosts ?? read('COSTTRACE_AUDIT_STAMPED_COSTS'),
    dedupeMaxTraces: overrides.dedupeMaxTraces ?? read('COSTTRACE_DEDUPE_MAX_TRACES'),
    dedupeRestoreSeconds: overrides.dedupeRestoreSeconds ?? read('COSTTRACE_DEDUPE_RESTORE_SECONDS'),
    retentionSpanDays,
    retentionRollupDays: overrides.retentionRollupDays ?? read('COSTTRACE_RETENTION_ROLLUP_DAYS'),
    retentionIntervalSeconds: overrides.retentionIntervalSeconds ?? read('COSTTRACE_RETENTION_INTERVAL_SECONDS'),
    logLevel,
  };
}

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

function pricingConfig(overrides: Partial<AggregatorConfig>, read: AggregatorEnv['read']): PricingConfig {
  const priceSnapshotFile = overrides.priceSnapshotFile ?? read('COSTTRACE_PRICE_SNAPSHOT_FILE');
  const pricingAddress = read('COSTTRACE_PRICING_ADDRESS', overrides.pricingAddress);
  if (pricingAddress !== undefined && priceSnapshotFile !== undefined) {
    throw new ConfigError(
      'COSTTRACE_PRICING_ADDRESS and COSTTRACE_PRICE_SNAPSHOT_FILE are both set: follow pricing-cache or price from a fixed file, not both',
      { variable: 'COSTTRACE_PRICING_ADDRESS' },
    );
  }
  const pricingToken = overrides.pricingToken ?? read('COSTTRACE_PRICING_TOKEN');
  const pricingTlsCaFile = overrides.pricingTlsCaFile ?? read('COSTTRACE_PRICING_TLS_CA_FILE');
  const pricingTls = overrides.pricingTls ?? (read('COSTTRACE_PRICING_TLS') || pricingTlsCaFile !== undefined);
  if (pricingAddress === undefined) {
    for (const [variable, set] of [
      ['COSTTRACE_PRICING_TOKEN', pricingToken !== undefined],
      ['COSTTRACE_PRICING_TLS', pricingTls],
    ] as const) {
      if (set) {
        throw new ConfigError(
          `${variable} is set without COSTTRACE_PRICING_ADDRESS: set the address of pricing-cache`,
          { variable },
        );
      }
    }
  }
  const stateFile = overrides.pricingStateFile ?? read('COSTTRACE_PRICING_STATE_FILE');
  const pricingStateFile =
    pricingAddress === undefined
      ? undefined
      : stateFile === undefined
        ? DEFAULT_PRICING_STATE_FILE
        : stateFile || undefined;
  const providerAliases = overrides.providerAliases ?? read('COSTTRACE_PROVIDER_ALIASES');
  return {
    priceSnapshotFile,
    pricingAddress,
    pricingToken,
    pricingTls,
    pricingTlsCaFile,
    pricingStateFile,
    selfHostedProviders: overrides.selfHostedProviders ?? read('COSTTRACE_SELF_HOSTED_PROVIDERS'),
    inputTokenRules: overrides.inputTokenRules ?? read('COSTTRACE_INPUT_TOKEN_RULES'),
    emitterInputRules: overrides.emitterInputRules ?? read('COSTTRACE_EMITTER_INPUT_RULES'),
    providerAliases: Object.fromEntries(
      Object.entries(providerAliases).map(([emitted, provider]) => [emitted.toLowerCase(), provider]),
    ),
  };
}
