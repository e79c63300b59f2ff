import { readFileSync } from 'node:fs';

/**
 * demo-inference configuration: one typed object, validated once at start. Precedence: explicit
 * values passed in code > environment variables > the optional JSON file named by
 * DEMO_CONFIG_FILE (an object of the same variable names) > defaults. Errors name the variable
 * and the fix.
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

export class DemoConfigError extends Error {
  override readonly name = 'DemoConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function number(env: Env, name: string, fallback: number, min: number, max: number, integer = true): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new DemoConfigError(
      `${name}=${JSON.stringify(raw)} is invalid: use ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
    );
  }
  return value;
}

function url(env: Env, name: string, value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new DemoConfigError(`${name}=${JSON.stringify(value)} is invalid: use http(s)://host:port`);
  }
  return value;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new DemoConfigError(`${name}=${JSON.stringify(value)} is invalid: use one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Reads DEMO_CONFIG_FILE: a JSON object of variable name → string, number or boolean. */
function fileValues(path: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DemoConfigError(
      `DEMO_CONFIG_FILE=${JSON.stringify(path)} could not be read as JSON: ${(err as Error).message}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DemoConfigError(`DEMO_CONFIG_FILE ${path} must hold a JSON object like {"DEMO_HTTP_PORT": 8090}`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new DemoConfigError(`DEMO_CONFIG_FILE ${path}: ${key} must be a string, number or boolean`);
    }
    out[key] = String(value);
  }
  return out;
}

/**
 * Every environment variable loadDemoConfig reads (machine-readable, for deployment checks).
 * A unit test asserts that the loader reads exactly these names, so deploy/ checks can trust them.
 */
export const DEMO_ENV_VARS: readonly string[] = [
  'COSTTRACE_INSTANCE_COST',
  'COSTTRACE_OTLP_ENDPOINT',
  'COSTTRACE_OTLP_PROTOCOL',
  'COSTTRACE_PRICING_ADDRESS',
  'COSTTRACE_THROTTLE_URL',
  'DEMO_ALLOW_NO_EXPORT',
  'DEMO_BATCH_WINDOW_MS',
  'DEMO_CONFIG_FILE',
  'DEMO_GPU_TYPE',
  'DEMO_HTTP_HOST',
  'DEMO_HTTP_PORT',
  'DEMO_LATENCY_SCALE',
  'DEMO_LOAD_REQUESTS',
  'DEMO_LOAD_RPS',
  'DEMO_LOG_LEVEL',
  'DEMO_MAX_BATCH_SIZE',
  'DEMO_MODE',
  'DEMO_SEED',
  'DEMO_TARGET_URL',
  'OTEL_SERVICE_NAME',
];

/** Builds the configuration from `overrides`, the environment (process.env by default) and DEMO_CONFIG_FILE. */
export function loadDemoConfig(overrides: Partial<DemoConfig> = {}, processEnv: Env = process.env): DemoConfig {
  const file = processEnv.DEMO_CONFIG_FILE?.trim();
  const env: Env = file ? { ...fileValues(file), ...processEnv } : processEnv;
  const mode = overrides.mode ?? oneOf('DEMO_MODE', env.DEMO_MODE ?? 'serve', ['serve', 'load'] as const);
  const pricingAddress = overrides.pricingAddress ?? (env.COSTTRACE_PRICING_ADDRESS?.trim() || undefined);
  if (pricingAddress !== undefined && !/^[^\s:/]+:\d{1,5}$/.test(pricingAddress)) {
    throw new DemoConfigError(
      `COSTTRACE_PRICING_ADDRESS=${JSON.stringify(pricingAddress)} is invalid: use host:port, e.g. pricing-cache:50051`,
    );
  }
  const otlpProtocol =
    overrides.otlpProtocol ??
    oneOf('COSTTRACE_OTLP_PROTOCOL', env.COSTTRACE_OTLP_PROTOCOL ?? 'http/protobuf', [
      'grpc',
      'http/protobuf',
    ] as const);
  const config: DemoConfig = {
    mode,
    httpHost: overrides.httpHost ?? env.DEMO_HTTP_HOST ?? '127.0.0.1',
    httpPort: overrides.httpPort ?? number(env, 'DEMO_HTTP_PORT', 8090, 0, 65535),
    otlpEndpoint: overrides.otlpEndpoint ?? url(env, 'COSTTRACE_OTLP_ENDPOINT', env.COSTTRACE_OTLP_ENDPOINT),
    otlpProtocol,
    pricingAddress,
    throttleUrl: overrides.throttleUrl ?? url(env, 'COSTTRACE_THROTTLE_URL', env.COSTTRACE_THROTTLE_URL),
    instanceCost:
      overrides.instanceCost ??
      oneOf('COSTTRACE_INSTANCE_COST', env.COSTTRACE_INSTANCE_COST ?? 'false', ['true', 'false'] as const) === 'true',
    latencyScale: overrides.latencyScale ?? number(env, 'DEMO_LATENCY_SCALE', 1, 0, 100, false),
    gpuType: overrides.gpuType ?? env.DEMO_GPU_TYPE ?? 'h100-80gb',
    batchWindowMs: overrides.batchWindowMs ?? number(env, 'DEMO_BATCH_WINDOW_MS', 20, 0, 10_000),
    maxBatchSize: overrides.maxBatchSize ?? number(env, 'DEMO_MAX_BATCH_SIZE', 8, 1, 1024),
    seed: overrides.seed ?? number(env, 'DEMO_SEED', 42, 0, 2 ** 31 - 1),
    serviceName: overrides.serviceName ?? env.OTEL_SERVICE_NAME ?? 'demo-inference',
    logLevel: overrides.logLevel ?? oneOf('DEMO_LOG_LEVEL', env.DEMO_LOG_LEVEL ?? 'info', LOG_LEVELS),
    targetUrl: overrides.targetUrl ?? url(env, 'DEMO_TARGET_URL', env.DEMO_TARGET_URL) ?? 'http://127.0.0.1:8090',
    loadRps: overrides.loadRps ?? number(env, 'DEMO_LOAD_RPS', 20, 1, 10_000),
    loadRequests: overrides.loadRequests ?? number(env, 'DEMO_LOAD_REQUESTS', 600, 1, 10_000_000),
  };
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(config.gpuType)) {
    throw new DemoConfigError(
      `DEMO_GPU_TYPE=${JSON.stringify(config.gpuType)} is invalid: use a GPU SKU like h100-80gb`,
    );
  }
  if (config.mode === 'serve' && config.otlpEndpoint === undefined && env.DEMO_ALLOW_NO_EXPORT !== 'true') {
    throw new DemoConfigError(
      'COSTTRACE_OTLP_ENDPOINT is not set: point it at the aggregator or a collector (e.g. http://127.0.0.1:4318/v1/traces), or set DEMO_ALLOW_NO_EXPORT=true',
    );
  }
  return config;
}
