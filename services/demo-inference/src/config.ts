import { readFileSync } from 'node:fs';
import {
  choice,
  ConfigError,
  envReader,
  envSchema,
  hostPort,
  httpUrl,
  integer,
  LOG_LEVELS,
  number,
  optional,
  pattern,
  text,
} from '@costtrace/service-kit';
import type { Env } from '@costtrace/service-kit';

/**
 * demo-inference configuration: one typed object, validated once at start. Precedence: explicit
 * values passed in code > environment variables > the optional JSON file named by
 * DEMO_CONFIG_FILE (an object of the same variable names) > defaults. Every variable is checked
 * against DEMO_ENV (a zod schema); errors name the variable and the fix.
 */
export interface DemoConfig {
  /** "serve": run the inference API; "load": drive a running one with synthetic traffic. */
  readonly mode: 'serve' | 'load';
  readonly httpHost: string;
  readonly httpPort: number;
  /** OTLP endpoint for spans; undefined: no export (spans still priced, e.g. for tests). */
  readonly otlpEndpoint: string | undefined;
  readonly otlpProtocol: 'grpc' | 'http/protobuf';
  /** pricing-cache gRPC address; undefined: the bundled catalog. */
  readonly pricingAddress: string | undefined;
  /** Aggregator base URL for the throttle guard; undefined: no throttling. */
  readonly throttleUrl: string | undefined;
  /** Opt-in instance cost (host.type / cloud.* must be on the resource, e.g. OTEL_RESOURCE_ATTRIBUTES). */
  readonly instanceCost: boolean;
  /** Multiplies simulated latencies: 1 is realistic, 0 answers at once (tests, load). */
  readonly latencyScale: number;
  /** GPU type of the self-hosted models. */
  readonly gpuType: string;
  /** GPU batching: window and maximum batch size. */
  readonly batchWindowMs: number;
  readonly maxBatchSize: number;
  readonly seed: number;
  readonly serviceName: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Load mode: target base URL, requests per second, and how many requests in all. */
  readonly targetUrl: string;
  readonly loadRps: number;
  readonly loadRequests: number;
}

/** The demo's configuration error is the services' one; the old name stays for importers. */
export { ConfigError, ConfigError as DemoConfigError };

/** The demo's environment (and DEMO_CONFIG_FILE's keys): each variable's schema and default. */
const DEMO_ENV = envSchema({
  DEMO_CONFIG_FILE: optional(text().trim()),
  DEMO_MODE: choice(['serve', 'load']).default('serve'),
  DEMO_HTTP_HOST: text().default('127.0.0.1'),
  DEMO_HTTP_PORT: integer(0, 65535, 8090),
  /** Required in serve mode unless DEMO_ALLOW_NO_EXPORT=true. */
  COSTTRACE_OTLP_ENDPOINT: optional(httpUrl()),
  COSTTRACE_OTLP_PROTOCOL: choice(['grpc', 'http/protobuf']).default('http/protobuf'),
  DEMO_ALLOW_NO_EXPORT: optional(choice(['true', 'false']), 'false'),
  COSTTRACE_PRICING_ADDRESS: optional(hostPort('pricing-cache:50051')),
  COSTTRACE_THROTTLE_URL: optional(httpUrl()),
  COSTTRACE_INSTANCE_COST: choice(['true', 'false']).default('false'),
  DEMO_LATENCY_SCALE: number(0, 100, 1),
  DEMO_GPU_TYPE: pattern(/^[a-z0-9][a-z0-9.-]*$/, 'use a GPU SKU like h100-80gb').default('h100-80gb'),
  DEMO_BATCH_WINDOW_MS: integer(0, 10_000, 20),
  DEMO_MAX_BATCH_SIZE: integer(1, 1024, 8),
  DEMO_SEED: integer(0, 2 ** 31 - 1, 42),
  OTEL_SERVICE_NAME: text().default('demo-inference'),
  DEMO_LOG_LEVEL: choice(LOG_LEVELS).default('info'),
  DEMO_TARGET_URL: optional(httpUrl(), 'http://127.0.0.1:8090'),
  DEMO_LOAD_RPS: integer(1, 10_000, 20),
  DEMO_LOAD_REQUESTS: integer(1, 10_000_000, 600),
});

/** Reads DEMO_CONFIG_FILE: a JSON object of variable name → string, number or boolean. */
function fileValues(path: string): Record<string, string> {
  const invalid = (fix: string, cause?: unknown): ConfigError =>
    new ConfigError(`DEMO_CONFIG_FILE=${JSON.stringify(path)} is invalid: ${fix}`, {
      variable: 'DEMO_CONFIG_FILE',
      cause,
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw invalid(`it could not be read as JSON (${(err as Error).message}): use a readable JSON file`, err);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('the file must hold a JSON object like {"DEMO_HTTP_PORT": 8090}');
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw invalid(`${key} is ${JSON.stringify(value)}: use a string, number or boolean`);
    }
    out[key] = String(value);
  }
  return out;
}

/**
 * Every environment variable loadDemoConfig reads (machine-readable, for deployment checks): the
 * variables of DEMO_ENV. A unit test asserts that the loader reads exactly these names, so deploy/
 * checks can trust them.
 */
export const DEMO_ENV_VARS: readonly string[] = Object.keys(DEMO_ENV.shape).sort();

/** Builds the configuration from `overrides`, the environment (process.env by default) and DEMO_CONFIG_FILE. */
export function loadDemoConfig(overrides: Partial<DemoConfig> = {}, processEnv: Env = process.env): DemoConfig {
  const file = envReader(DEMO_ENV, processEnv).read('DEMO_CONFIG_FILE');
  const env: Env = file === undefined ? processEnv : { ...fileValues(file), ...processEnv };
  const { read } = envReader(DEMO_ENV, env);
  const mode = overrides.mode ?? read('DEMO_MODE');
  // The pricing address and the GPU type are checked whether they come from code or not.
  const pricingAddress = read('COSTTRACE_PRICING_ADDRESS', overrides.pricingAddress);
  const otlpProtocol = overrides.otlpProtocol ?? read('COSTTRACE_OTLP_PROTOCOL');
  const config: DemoConfig = {
    mode,
    httpHost: overrides.httpHost ?? read('DEMO_HTTP_HOST'),
    httpPort: overrides.httpPort ?? read('DEMO_HTTP_PORT'),
    otlpEndpoint: overrides.otlpEndpoint ?? read('COSTTRACE_OTLP_ENDPOINT'),
    otlpProtocol,
    pricingAddress,
    throttleUrl: overrides.throttleUrl ?? read('COSTTRACE_THROTTLE_URL'),
    instanceCost: overrides.instanceCost ?? read('COSTTRACE_INSTANCE_COST') === 'true',
    latencyScale: overrides.latencyScale ?? read('DEMO_LATENCY_SCALE'),
    gpuType: read('DEMO_GPU_TYPE', overrides.gpuType),
    batchWindowMs: overrides.batchWindowMs ?? read('DEMO_BATCH_WINDOW_MS'),
    maxBatchSize: overrides.maxBatchSize ?? read('DEMO_MAX_BATCH_SIZE'),
    seed: overrides.seed ?? read('DEMO_SEED'),
    serviceName: overrides.serviceName ?? read('OTEL_SERVICE_NAME'),
    logLevel: overrides.logLevel ?? read('DEMO_LOG_LEVEL'),
    targetUrl: overrides.targetUrl ?? read('DEMO_TARGET_URL'),
    loadRps: overrides.loadRps ?? read('DEMO_LOAD_RPS'),
    loadRequests: overrides.loadRequests ?? read('DEMO_LOAD_REQUESTS'),
  };
  if (config.mode === 'serve' && config.otlpEndpoint === undefined && read('DEMO_ALLOW_NO_EXPORT') !== 'true') {
    throw new ConfigError(
      'COSTTRACE_OTLP_ENDPOINT is not set: point it at the aggregator or a collector (e.g. http://127.0.0.1:4318/v1/traces), or set DEMO_ALLOW_NO_EXPORT=true',
      { variable: 'COSTTRACE_OTLP_ENDPOINT' },
    );
  }
  return config;
}
