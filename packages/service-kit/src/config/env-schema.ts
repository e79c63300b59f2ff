import { z } from 'zod';
import { ConfigError } from './config-error.js';

/**
 * Configuration from environment variables, validated with zod schemas. A service declares one
 * schema for its environment (`envSchema`, one entry per variable, built from the readers below)
 * and reads it through `envReader`: explicit values passed in code first, then the variable,
 * then the schema's default. A value that fails its schema stops the service with a ConfigError
 * that names the variable, the value given and what to put there:
 *
 *     COSTTRACE_HTTP_PORT="eighty" is invalid: use an integer from 0 to 65535
 *     KAFKA_BROKERS entry "nope" is invalid: use host:port, e.g. 127.0.0.1:9092
 *
 * Each reader's issue messages are the fix ("use …"); configErrorFromZod puts the name and the
 * value in front. Rules between settings stay in the loaders, which throw ConfigError themselves.
 */

/**
 * The schema library itself, for schemas of structured settings (e.g. a JSON list of sources):
 * services build them with the same zod the readers use.
 */

/** The environment as a loader sees it: process.env, or a test's record. */
export type Env = Readonly<Record<string, string | undefined>>;

/** One schema per environment variable, keyed by the variable's name. */
export type EnvShape = Readonly<Record<string, z.ZodType>>;

/** Log levels, as pino names them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const isBlank = (value: unknown): boolean => typeof value === 'string' && value.trim() === '';

/** Schemas whose values are never shown in an error message (tokens, passwords). */
const secrets = new WeakSet<z.ZodType>();

// ------------------------------------------------------------------------------ readers

/** Any string, kept as given (an empty one included). */
export function text(): z.ZodString {
  return z.string('use a string');
}

/**
 * `schema`, where an absent or blank (empty or only spaces) value counts as unset: it gives
 * `fallback`, or undefined without one.
 */
export function optional<T>(schema: z.ZodType<T>): z.ZodType<T | undefined>;
export function optional<T>(schema: z.ZodType<T>, fallback: NoInfer<T>): z.ZodType<T>;
export function optional<T>(schema: z.ZodType<T>, fallback?: T): z.ZodType<T | undefined> {
  const unsetWhenBlank = (value: unknown): unknown => (isBlank(value) ? undefined : value);
  return z.preprocess(unsetWhenBlank, fallback === undefined ? schema.optional() : schema.default(fallback as never));
}

/** An integer from `min` to `max` (a decimal string, or a number from code or a file); blank is unset. */
export function integer(min: number, max: number): z.ZodType<number | undefined>;
export function integer(min: number, max: number, fallback: number): z.ZodType<number>;
export function integer(min: number, max: number, fallback?: number): z.ZodType<number | undefined> {
  const fix = `use an integer from ${min} to ${max}`;
  const schema = z.coerce.number(fix).int(fix).min(min, fix).max(max, fix);
  return fallback === undefined ? optional(schema) : optional(schema, fallback);
}

/** A finite number from `min` to `max`; blank is unset. */
export function number(min: number, max: number): z.ZodType<number | undefined>;
export function number(min: number, max: number, fallback: number): z.ZodType<number>;
export function number(min: number, max: number, fallback?: number): z.ZodType<number | undefined> {
  const fix = `use a number from ${min} to ${max}`;
  const schema = z.coerce.number(fix).min(min, fix).max(max, fix);
  return fallback === undefined ? optional(schema) : optional(schema, fallback);
}

/** A switch: true or 1, false or 0; blank is unset. */
export function flag(): z.ZodType<boolean | undefined>;
export function flag(fallback: boolean): z.ZodType<boolean>;
export function flag(fallback?: boolean): z.ZodType<boolean | undefined> {
  const fix = 'use true or false';
  const schema = z.enum(['true', '1', 'false', '0'], fix).transform((value) => value === 'true' || value === '1');
  return fallback === undefined ? optional(schema) : optional(schema, fallback);
}

/** One of `values`, exactly as written. */
export function choice<const V extends readonly [string, ...string[]]>(values: V): z.ZodType<V[number]> {
  return z.enum(values, `use one of ${values.join(', ')}`);
}

/** A string that `test` accepts (a regular expression, or a predicate); `fix` says what to use. */
export function pattern(test: RegExp | ((value: string) => boolean), fix: string): z.ZodString {
  const accepts = typeof test === 'function' ? test : (value: string) => test.test(value);
  return z.string(fix).refine(accepts, fix);
}

/** A Kafka topic name. */
export function topicName(): z.ZodString {
  return pattern(/^[A-Za-z0-9._-]{1,249}$/, "use a Kafka topic name: 1 to 249 letters, digits, '.', '_' or '-'");
}

/** An http:// or https:// URL. */
export function httpUrl(): z.ZodType<string> {
  return z.url({ protocol: /^https?$/, error: 'use http(s)://host:port' });
}

/** `host:port` (surrounding spaces dropped); `example` shows one in the message. */
export function hostPort(example: string): z.ZodString {
  const fix = `use host:port, e.g. ${example}`;
  return z
    .string(fix)
    .trim()
    .regex(/^[^\s:/]+:\d{1,5}$/, fix);
}

/**
 * A comma-separated list (entries trimmed, empty ones dropped), or a list given in code, each
 * entry checked by `entry`. With `nonEmpty` (the fix to show), at least one entry is required.
 */
export function commaList<T>(entry: z.ZodType<T>, nonEmpty?: string): z.ZodType<T[]> {
  const split = (value: unknown): unknown =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((e) => e.trim())
          .filter((e) => e !== '')
      : value;
  const list = z.array(entry, 'use a comma-separated list');
  return z.preprocess(split, nonEmpty === undefined ? list : list.min(1, nonEmpty));
}

/** `key=value,key=value` (empty entries skipped), each value checked by `value`; `fix` shows the form. */
export function keyValuePairs<V>(value: z.ZodType<V>, fix: string): z.ZodType<Record<string, V>> {
  const pair = z.string(fix).transform((entry, ctx): [string, V] => {
    const at = entry.indexOf('=');
    const key = entry.slice(0, Math.max(at, 0)).trim();
    const parsed = value.safeParse(entry.slice(at + 1).trim());
    if (at <= 0 || key === '' || !parsed.success) {
      ctx.issues.push({ code: 'custom', message: fix, input: entry });
      return z.NEVER;
    }
    return [key, parsed.data];
  });
  const split = (text: unknown): unknown =>
    typeof text === 'string' ? text.split(',').filter((e) => !isBlank(e)) : text;
  return z.preprocess(split, z.array(pair, fix)).transform((pairs) => Object.fromEntries(pairs));
}

/** Marks `schema` as holding a secret: error messages say which entry failed, never its value. */
export function secret<S extends z.ZodType>(schema: S): S {
  secrets.add(schema);
  return schema;
}

// ------------------------------------------------------------------------------ errors

/** Where a value came from, for the message of a failure. */
export interface SettingSource {
  /** The environment variable of the setting. */
  readonly variable: string;
  /** The value given (a string from the environment, or a value from code or a file). */
  readonly value: unknown;
  /** How the message names the source, when not by the variable (e.g. `port in config.json`). */
  readonly label?: string | undefined;
  /** Leave the value out of the message. */
  readonly secret?: boolean | undefined;
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((key) =>
      typeof key === 'number'
        ? `[${key}]`
        : typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)
          ? `.${key}`
          : `[${show(String(key))}]`,
    )
    .join('');
}

/**
 * The ConfigError for a value that failed its schema, from the first issue:
 * - the value itself: `NAME="value" is invalid: <fix>`;
 * - an entry of a list: `NAME entry "entry" is invalid: <fix>`;
 * - a field inside a JSON value (e.g. a list of sources): `NAME[0].type <requirement>`, the
 *   issue message then reading as a requirement on the field ("must be one of …").
 * The error's `variable` is the setting's variable and its `cause` the schema library's error.
 */
export function configErrorFromZod(error: z.ZodError, source: SettingSource): ConfigError {
  const issue = error.issues[0];
  const name = source.label ?? source.variable;
  const fix = issue?.message ?? 'see docs/configuration.md';
  const path = issue?.path ?? [];
  let message: string;
  if (path.length === 0) {
    message = `${name}${source.secret === true ? ' (value hidden)' : `=${show(source.value)}`} is invalid: ${fix}`;
  } else if (path.length === 1 && typeof path[0] === 'number') {
    const entry = source.secret === true || issue?.input === undefined ? `#${path[0] + 1}` : show(issue.input);
    message = `${name} entry ${entry} is invalid: ${fix}`;
  } else {
    message = `${name}${pathText(path)} ${fix}`;
  }
  return new ConfigError(message, { variable: source.variable, cause: error });
}

/** `source.value` checked against `schema`: the parsed value, or a ConfigError (see configErrorFromZod). */
export function checkSetting<T>(schema: z.ZodType<T>, source: SettingSource): T {
  const result = schema.safeParse(source.value, { reportInput: true });
  if (result.success) return result.data;
  throw configErrorFromZod(result.error, { ...source, secret: source.secret === true || secrets.has(schema) });
}

// ------------------------------------------------------------------------------ a service's environment

/** A service's environment schema: one reader per variable, keyed by the variable's name. */
export function envSchema<S extends EnvShape>(shape: S): z.ZodObject<S> {
  return z.object(shape);
}

/** Reads variables of one environment against a service's schema; each name is read only when asked for. */
export interface EnvReader<S extends EnvShape> {
  /**
   * The setting's value: `given` (a value passed in code) when defined, else the variable's; either
   * way checked against the variable's schema, an absent one giving the schema's default.
   */
  readonly read: <K extends keyof S & string>(name: K, given?: unknown) => z.output<S[K]>;
  /**
   * A value the loader computed (a default derived from another setting), checked against the
   * variable's schema; it must not come out unset.
   */
  readonly check: <K extends keyof S & string>(name: K, value: unknown) => NonNullable<z.output<S[K]>>;
}

export function envReader<S extends EnvShape>(schema: z.ZodObject<S>, env: Env): EnvReader<S> {
  const parse = <K extends keyof S & string>(name: K, value: unknown): z.output<S[K]> =>
    checkSetting(schema.shape[name] as z.ZodType<z.output<S[K]>>, { variable: name, value });
  return {
    read: (name, given) => parse(name, given !== undefined ? given : env[name]),
    check: (name, value) => {
      const checked = parse(name, value);
      if (checked === undefined || checked === null) {
        throw new ConfigError(`${name}=${show(value)} is invalid: set a value`, { variable: name });
      }
      return checked;
    },
  };
}
