import { readFileSync } from 'node:fs';
import {
  checkSetting,
  choice,
  commaList,
  ConfigError,
  httpUrl,
  integer,
  LOG_LEVELS,
  optional,
  pattern,
  secret,
  text,
} from '@costtrace/service-kit';
import { z } from 'zod';
import type { Env } from '@costtrace/service-kit';
import { SOURCE_TYPES } from './sources/sources.js';
import type { SourceConfig } from './sources/sources.js';

/**
 * pricing-cache configuration: one typed object, validated once. Precedence: explicit values
 * passed in code > environment variables > the optional JSON config file
 * (COSTTRACE_PRICING_CONFIG_FILE, same field names as this interface) > defaults. Wherever a value
 * comes from, it is checked against its field's zod schema (PRICING_CACHE_SCHEMA); errors name
 * the variable (or the field and the file) and say what to put there.
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

export { ConfigError };

const MIB = 1024 * 1024;

/** The fields a source of each type must have. */
const SOURCE_REQUIRED_FIELDS: Readonly<Record<(typeof SOURCE_TYPES)[number], readonly ('path' | 'url' | 'urls')[]>> = {
  bundled: [],
  file: ['path'],
  litellm: ['url'],
  aws: ['urls'],
  azure: ['url'],
  gcp: ['url'],
};

const isHttpUrl = (value: unknown): boolean => httpUrl().safeParse(value).success;
const positiveInteger = z.int('must be a positive integer').positive('must be a positive integer').optional();

/** One price source; the schedule fields are optional, other fields pass through to the source. */
const SOURCE = z
  .looseObject(
    {
      type: z.enum(SOURCE_TYPES, `must be one of ${SOURCE_TYPES.join(', ')}`),
      ttlMs: positiveInteger,
      timeoutMs: positiveInteger,
      openMs: positiveInteger,
      failureThreshold: positiveInteger,
      jitter: z
        .number('must be a number from 0 to below 1')
        .min(0, 'must be a number from 0 to below 1')
        .lt(1, 'must be a number from 0 to below 1')
        .optional(),
    },
    'use an object with a "type", e.g. {"type":"bundled"}',
  )
  .superRefine((source, ctx) => {
    for (const field of SOURCE_REQUIRED_FIELDS[source.type]) {
      const value = source[field];
      const ok =
        field === 'urls'
          ? Array.isArray(value) && value.length > 0 && value.every(isHttpUrl)
          : field === 'path'
            ? typeof value === 'string' && value !== ''
            : isHttpUrl(value);
      if (!ok) {
        const give =
          field === 'urls'
            ? 'a list of http(s) URLs'
            : field === 'path'
              ? 'a file or directory path'
              : 'an http(s) URL';
        ctx.addIssue({ code: 'custom', path: [field], message: `is missing or invalid: give ${give}` });
      }
    }
    if (source.timeoutMs !== undefined && source.ttlMs !== undefined && source.timeoutMs > source.ttlMs) {
      ctx.addIssue({ code: 'custom', path: ['timeoutMs'], message: 'must not exceed ttlMs' });
    }
  });

/** A JSON text is parsed first (from the environment); a list from code or the file is taken as is. */
const parseJsonText = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
};

/**
 * Each field's schema and default. The same schema checks a value passed in code, read from the
 * environment or read from the config file.
 */
const PRICING_CACHE_SCHEMA = z.object({
  host: optional(text(), '127.0.0.1'),
  port: integer(0, 65535, 50051),
  httpHost: optional(text(), '127.0.0.1'),
  httpPort: integer(-1, 65535, 9464),
  sources: z
    .preprocess(parseJsonText, z.array(SOURCE, 'use a JSON array of sources, e.g. [{"type":"bundled"}]'))
    .default([{ type: 'bundled' }]),
  overridesFile: optional(text()),
  /** Empty: not persisted. */
  stateFile: text()
    .default('.costtrace/pricing-snapshot.json')
    .transform((path) => path || undefined),
  maxMessageBytes: integer(64 * 1024, 1024 * MIB, 16 * MIB),
  maxSourceResponseBytes: integer(1024, 4096 * MIB, 256 * MIB),
  keepaliveTimeMs: integer(1_000, 86_400_000, 60_000),
  keepaliveTimeoutMs: integer(1_000, 600_000, 20_000),
  minPingIntervalMs: integer(1_000, 3_600_000, 10_000),
  shutdownGraceMs: integer(0, 600_000, 10_000),
  watchHeartbeatMs: integer(100, 3_600_000, 30_000),
  changeLogSize: integer(1, 1_000_000, 1000),
  tlsCertFile: optional(text()),
  tlsKeyFile: optional(text()),
  tlsClientCaFile: optional(text()),
  authTokens: secret(
    commaList(
      pattern(
        (token) => token.length >= 16 && !/\s/.test(token),
        'use tokens of at least 16 characters without spaces',
      ),
    ).default([]),
  ),
  logLevel: optional(choice(LOG_LEVELS), 'info'),
});

type FieldSchemas = (typeof PRICING_CACHE_SCHEMA)['shape'];

/** Builds the configuration from `explicit`, the environment and the optional config file. */
export function loadConfig(explicit: Partial<PricingCacheConfig> = {}, env: Env = process.env): PricingCacheConfig {
  const file = readConfigFile(env[CONFIG_FILE_ENV]);
  /** A field's value, explicit > env > file > the schema's default, checked and named by where it came from. */
  const field = <K extends keyof PricingCacheConfig>(key: K): z.output<FieldSchemas[K]> => {
    const variable = ENV_VARS[key];
    let value: unknown = explicit[key];
    let label = key as string;
    if (value === undefined) {
      const fromEnv = env[variable];
      if (fromEnv !== undefined && fromEnv.trim() !== '') [value, label] = [fromEnv, variable];
      else if (file[key] !== undefined) [value, label] = [file[key], `${key} in ${env[CONFIG_FILE_ENV]}`];
    }
    return checkSetting(PRICING_CACHE_SCHEMA.shape[key] as z.ZodType<z.output<FieldSchemas[K]>>, {
      variable,
      value,
      label,
    });
  };
  const logLevel = field('logLevel');
  const authTokens = field('authTokens');
  const config: PricingCacheConfig = {
    host: field('host'),
    port: field('port'),
    httpHost: field('httpHost'),
    httpPort: field('httpPort'),
    sources: field('sources') as SourceConfig[],
    overridesFile: field('overridesFile'),
    stateFile: field('stateFile'),
    maxMessageBytes: field('maxMessageBytes'),
    maxSourceResponseBytes: field('maxSourceResponseBytes'),
    keepaliveTimeMs: field('keepaliveTimeMs'),
    keepaliveTimeoutMs: field('keepaliveTimeoutMs'),
    minPingIntervalMs: field('minPingIntervalMs'),
    shutdownGraceMs: field('shutdownGraceMs'),
    watchHeartbeatMs: field('watchHeartbeatMs'),
    changeLogSize: field('changeLogSize'),
    tlsCertFile: field('tlsCertFile'),
    tlsKeyFile: field('tlsKeyFile'),
    tlsClientCaFile: field('tlsClientCaFile'),
    authTokens,
    logLevel,
  };
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    throw new ConfigError(`${ENV_VARS.tlsCertFile} and ${ENV_VARS.tlsKeyFile} go together: set both or neither`, {
      variable: config.tlsCertFile === undefined ? ENV_VARS.tlsCertFile : ENV_VARS.tlsKeyFile,
    });
  }
  if (config.tlsClientCaFile !== undefined && config.tlsCertFile === undefined) {
    throw new ConfigError(
      `${ENV_VARS.tlsClientCaFile} (mTLS) needs TLS: set ${ENV_VARS.tlsCertFile} and ${ENV_VARS.tlsKeyFile} too`,
      { variable: ENV_VARS.tlsCertFile },
    );
  }
  if (config.keepaliveTimeoutMs >= config.keepaliveTimeMs) {
    throw new ConfigError(
      `${ENV_VARS.keepaliveTimeoutMs} (${config.keepaliveTimeoutMs}) must be below ${ENV_VARS.keepaliveTimeMs} (${config.keepaliveTimeMs}): shorten it`,
      { variable: ENV_VARS.keepaliveTimeoutMs },
    );
  }
  return config;
}

function readConfigFile(path: string | undefined): Partial<Record<keyof PricingCacheConfig, unknown>> {
  if (path === undefined || path === '') return {};
  const invalid = (fix: string, cause?: unknown): ConfigError =>
    new ConfigError(`${CONFIG_FILE_ENV}=${JSON.stringify(path)} is invalid: ${fix}`, {
      variable: CONFIG_FILE_ENV,
      cause,
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw invalid(`it cannot be read as JSON (${(err as Error).message}): use a readable JSON file`, err);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('use a file holding a JSON object of configuration fields');
  }
  for (const key of Object.keys(parsed)) {
    if (!(key in ENV_VARS)) {
      throw invalid(`unknown field ${JSON.stringify(key)}: use only ${Object.keys(ENV_VARS).join(', ')}`);
    }
  }
  return parsed;
}
