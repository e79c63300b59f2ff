import { readFileSync } from 'node:fs';
import { SOURCE_TYPES } from './sources/sources.js';
import type { SourceConfig } from './sources/sources.js';

/**
 * pricing-cache configuration: one typed object, validated once. Precedence: explicit values
 * passed in code > environment variables > the optional JSON config file
 * (COSTTRACE_PRICING_CONFIG_FILE, same field names as this interface) > defaults.
 */
export interface PricingCacheConfig {
  /** gRPC listen address. */
  readonly host: string;
  /** gRPC port; 0 picks a free one. */
  readonly port: number;
  /** HTTP address for /metrics, /healthz, /readyz. */
  readonly httpHost: string;
  /** 0 picks a free one; -1 disables the HTTP listener. */
  readonly httpPort: number;
  /** Price sources, in precedence order: a later source replaces an earlier one's prices key by key. */
  readonly sources: readonly SourceConfig[];
  /** A catalog file of overrides (and/or prices), applied last. */
  readonly overridesFile: string | undefined;
  /** Where the last good snapshot is persisted; undefined: not persisted. */
  readonly stateFile: string | undefined;
  readonly maxMessageBytes: number;
  /** Largest HTTP body a source may return. */
  readonly maxSourceResponseBytes: number;
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  /** Clients may ping at most this often without calls in flight. */
  readonly minPingIntervalMs: number;
  /** Graceful shutdown: in-flight calls get this long before being cancelled. */
  readonly shutdownGraceMs: number;
  /** Heartbeat interval on idle WatchPrices streams. */
  readonly watchHeartbeatMs: number;
  /** Changes kept so that watchers can resume without a full snapshot. */
  readonly changeLogSize: number;
  /** TLS: server certificate chain and key (PEM files); both or neither. */
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  /** mTLS: clients must present a certificate signed by this CA (PEM file); requires TLS. */
  readonly tlsClientCaFile: string | undefined;
  /** Accepted bearer tokens; empty: no token auth. Never logged. */
  readonly authTokens: readonly string[];
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Environment variable of each field (docs/configuration.md lists them). */
export const ENV_VARS: Readonly<Record<keyof PricingCacheConfig, string>> = {
  host: 'COSTTRACE_PRICING_HOST',
  port: 'COSTTRACE_PRICING_PORT',
  httpHost: 'COSTTRACE_PRICING_HTTP_HOST',
  httpPort: 'COSTTRACE_PRICING_HTTP_PORT',
  sources: 'COSTTRACE_PRICING_SOURCES',
  overridesFile: 'COSTTRACE_PRICING_OVERRIDES_FILE',
  stateFile: 'COSTTRACE_PRICING_STATE_FILE',
  maxMessageBytes: 'COSTTRACE_PRICING_MAX_MESSAGE_BYTES',
  maxSourceResponseBytes: 'COSTTRACE_PRICING_MAX_SOURCE_RESPONSE_BYTES',
  keepaliveTimeMs: 'COSTTRACE_PRICING_KEEPALIVE_TIME_MS',
  keepaliveTimeoutMs: 'COSTTRACE_PRICING_KEEPALIVE_TIMEOUT_MS',
  minPingIntervalMs: 'COSTTRACE_PRICING_MIN_PING_INTERVAL_MS',
  shutdownGraceMs: 'COSTTRACE_PRICING_SHUTDOWN_GRACE_MS',
  watchHeartbeatMs: 'COSTTRACE_PRICING_WATCH_HEARTBEAT_MS',
  changeLogSize: 'COSTTRACE_PRICING_CHANGE_LOG_SIZE',
  tlsCertFile: 'COSTTRACE_PRICING_TLS_CERT_FILE',
  tlsKeyFile: 'COSTTRACE_PRICING_TLS_KEY_FILE',
  tlsClientCaFile: 'COSTTRACE_PRICING_TLS_CLIENT_CA_FILE',
  authTokens: 'COSTTRACE_PRICING_AUTH_TOKENS',
  logLevel: 'COSTTRACE_LOG_LEVEL',
};

export const CONFIG_FILE_ENV = 'COSTTRACE_PRICING_CONFIG_FILE';

/** Every environment variable loadConfig reads (machine-readable, for deployment checks). */
export const PRICING_CACHE_ENV_VARS: readonly string[] = [
  ...new Set([...Object.values(ENV_VARS), CONFIG_FILE_ENV]),
].sort();

const MIB = 1024 * 1024;

/** Builds the configuration from `explicit`, the environment and the optional config file. */
export function loadConfig(explicit: Partial<PricingCacheConfig> = {}, env: Env = process.env): PricingCacheConfig {
  const file = readConfigFile(env[CONFIG_FILE_ENV]);
  /** Raw value of a field: explicit > env > file, with the name to blame in errors. */
  const raw = <K extends keyof PricingCacheConfig>(key: K): { value: unknown; from: string } | undefined => {
    if (explicit[key] !== undefined) return { value: explicit[key], from: key };
    const fromEnv = env[ENV_VARS[key]];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, from: ENV_VARS[key] };
    if (file[key] !== undefined) return { value: file[key], from: `${key} in ${env[CONFIG_FILE_ENV]}` };
    return undefined;
  };
  const integer = (key: keyof PricingCacheConfig, fallback: number, min: number, max: number): number => {
    const r = raw(key);
    if (r === undefined) return fallback;
    const value = typeof r.value === 'number' ? r.value : Number(r.value);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`${r.from}=${JSON.stringify(r.value)} is invalid: use an integer from ${min} to ${max}`);
    }
    return value;
  };
  const text = (key: keyof PricingCacheConfig, fallback: string | undefined): string | undefined => {
    const r = raw(key);
    if (r === undefined) return fallback;
    if (typeof r.value !== 'string') throw new ConfigError(`${r.from} must be a string`);
    return r.value === '' ? undefined : r.value;
  };
  const logLevel = text('logLevel', 'info') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(
      `${ENV_VARS.logLevel}=${JSON.stringify(logLevel)} is invalid: use one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const tokensRaw = raw('authTokens');
  const authTokens =
    tokensRaw === undefined
      ? []
      : Array.isArray(tokensRaw.value)
        ? (tokensRaw.value as unknown[]).map(String)
        : String(tokensRaw.value)
            .split(',')
            .map((t) => t.trim())
            .filter((t) => t.length > 0);
  for (const token of authTokens) {
    if (token.length < 16 || /\s/.test(token)) {
      throw new ConfigError(`${ENV_VARS.authTokens}: every token must be at least 16 characters without spaces`);
    }
  }
  const config: PricingCacheConfig = {
    host: text('host', '127.0.0.1') ?? '127.0.0.1',
    port: integer('port', 50051, 0, 65535),
    httpHost: text('httpHost', '127.0.0.1') ?? '127.0.0.1',
    httpPort: integer('httpPort', 9464, -1, 65535),
    sources: sources(raw('sources')),
    overridesFile: text('overridesFile', undefined),
    stateFile: text('stateFile', '.costtrace/pricing-snapshot.json'),
    maxMessageBytes: integer('maxMessageBytes', 16 * MIB, 64 * 1024, 1024 * MIB),
    maxSourceResponseBytes: integer('maxSourceResponseBytes', 256 * MIB, 1024, 4096 * MIB),
    keepaliveTimeMs: integer('keepaliveTimeMs', 60_000, 1_000, 86_400_000),
    keepaliveTimeoutMs: integer('keepaliveTimeoutMs', 20_000, 1_000, 600_000),
    minPingIntervalMs: integer('minPingIntervalMs', 10_000, 1_000, 3_600_000),
    shutdownGraceMs: integer('shutdownGraceMs', 10_000, 0, 600_000),
    watchHeartbeatMs: integer('watchHeartbeatMs', 30_000, 100, 3_600_000),
    changeLogSize: integer('changeLogSize', 1000, 1, 1_000_000),
    tlsCertFile: text('tlsCertFile', undefined),
    tlsKeyFile: text('tlsKeyFile', undefined),
    tlsClientCaFile: text('tlsClientCaFile', undefined),
    authTokens,
    logLevel: logLevel as PricingCacheConfig['logLevel'],
  };
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    throw new ConfigError(`${ENV_VARS.tlsCertFile} and ${ENV_VARS.tlsKeyFile} go together: set both or neither`);
  }
  if (config.tlsClientCaFile !== undefined && config.tlsCertFile === undefined) {
    throw new ConfigError(
      `${ENV_VARS.tlsClientCaFile} (mTLS) needs TLS: set ${ENV_VARS.tlsCertFile} and ${ENV_VARS.tlsKeyFile} too`,
    );
  }
  if (config.keepaliveTimeoutMs >= config.keepaliveTimeMs) {
    throw new ConfigError(`${ENV_VARS.keepaliveTimeoutMs} must be below ${ENV_VARS.keepaliveTimeMs}`);
  }
  return config;
}

function readConfigFile(path: string | undefined): Partial<Record<keyof PricingCacheConfig, unknown>> {
  if (path === undefined || path === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${CONFIG_FILE_ENV}=${path} cannot be read as JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`${CONFIG_FILE_ENV}=${path} must hold a JSON object`);
  }
  for (const key of Object.keys(parsed)) {
    if (!(key in ENV_VARS)) {
      throw new ConfigError(
        `${path}: unknown field ${JSON.stringify(key)}; known: ${Object.keys(ENV_VARS).join(', ')}`,
      );
    }
  }
  return parsed;
}

const URL_FIELDS: Readonly<Record<string, readonly string[]>> = {
  bundled: [],
  file: ['path'],
  litellm: ['url'],
  aws: ['urls'],
  azure: ['url'],
  gcp: ['url'],
};

function sources(r: { value: unknown; from: string } | undefined): SourceConfig[] {
  if (r === undefined) return [{ type: 'bundled' }];
  let value = r.value;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new ConfigError(`${r.from} must be a JSON array of sources, e.g. [{"type":"bundled"}]`);
    }
  }
  if (!Array.isArray(value)) {
    throw new ConfigError(`${r.from} must be a JSON array of sources, e.g. [{"type":"bundled"}]`);
  }
  return value.map((s: unknown, i): SourceConfig => {
    const where = `${r.from}[${i}]`;
    if (typeof s !== 'object' || s === null) throw new ConfigError(`${where} must be an object with a "type"`);
    const source = s as Record<string, unknown>;
    const type = source.type;
    if (typeof type !== 'string' || !(SOURCE_TYPES as readonly string[]).includes(type)) {
      throw new ConfigError(`${where}.type must be one of ${SOURCE_TYPES.join(', ')}`);
    }
    for (const field of URL_FIELDS[type] ?? []) {
      const v = source[field];
      const ok =
        field === 'urls'
          ? Array.isArray(v) && v.length > 0 && v.every(isHttpUrl)
          : field === 'path'
            ? typeof v === 'string' && v !== ''
            : isHttpUrl(v);
      if (!ok) {
        throw new ConfigError(
          `${where}.${field} is missing or invalid: give ${field === 'urls' ? 'a list of http(s) URLs' : field === 'path' ? 'a file or directory path' : 'an http(s) URL'}`,
        );
      }
    }
    for (const field of ['ttlMs', 'timeoutMs', 'openMs', 'failureThreshold'] as const) {
      const v = source[field];
      if (v !== undefined && (!Number.isInteger(v) || (v as number) <= 0)) {
        throw new ConfigError(`${where}.${field} must be a positive integer`);
      }
    }
    const jitter = source.jitter;
    if (jitter !== undefined && (typeof jitter !== 'number' || jitter < 0 || jitter >= 1)) {
      throw new ConfigError(`${where}.jitter must be a number from 0 to below 1`);
    }
    if (typeof source.timeoutMs === 'number' && typeof source.ttlMs === 'number' && source.timeoutMs > source.ttlMs) {
      throw new ConfigError(`${where}.timeoutMs must not exceed ttlMs`);
    }
    return source as unknown as SourceConfig;
  });
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
