import { BillingImportError } from './billing-error.js';
import type { BillingErrorLocation } from './billing-error.js';
import { JsonArray, JsonNumber, JsonObject } from './lossless-json.js';
import type { JsonValue } from './lossless-json.js';

/** Where a JSON value is: what an error about it names. */
export interface JsonSite {
  readonly file: string | undefined;
  /** 1-based line the value starts on, when known. */
  readonly line: number | undefined;
  /** JSON path from the page's root, e.g. `data[2].results[0].amount.value`; '' for the root. */
  readonly path: string;
}

/** Most digits of a count: the largest that `exactDecimal` (38 digits at scale 12) can hold. */
const MAX_COUNT_DIGITS = 26;
/** Unix seconds of 9999-12-31T23:59:59Z: later "times" are garbage, not bills. */
const MAX_UNIX_SECONDS = 253_402_300_799;
/** Longest number literal read as an amount: bills have a few dozen digits at most. */
const MAX_NUMBER_LENGTH = 100;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const PLAIN_COUNT = /^(?:0|[1-9]\d{0,25})$/;
const NUMBER = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** `parent.key`, `parent[3]`, or `parent["odd key"]`: the path notation of error messages. */
export function jsonPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (!IDENTIFIER.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** The error location of a site (the root's empty path names no field). */
export function siteLocation(site: JsonSite): BillingErrorLocation {
  return { file: site.file, line: site.line, field: site.path === '' ? undefined : site.path };
}

/** A value's JSON type and, for a scalar, a short preview: "a string (\"12\")", "null", "an array". */
export function describeJson(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return `a boolean (${value})`;
  if (typeof value === 'string') return `a string (${JSON.stringify(value.slice(0, 64))})`;
  if (value instanceof JsonNumber) return `a number (${value.text.slice(0, 64)})`;
  if (value instanceof JsonArray) return 'an array';
  return 'an object';
}

function invalid(site: JsonSite, problem: string): BillingImportError {
  return new BillingImportError('INVALID_VALUE', problem, siteLocation(site));
}

/**
 * A non-negative whole number written in any JSON number form ("1200", "1.2e3", "1200.0"), exact
 * as a bigint; the problem otherwise. Never goes through a double, so counts beyond 2^53 stay exact.
 */
function wholeNumber(text: string): bigint | string {
  if (PLAIN_COUNT.test(text)) return BigInt(text); // the common case, without the general algebra
  const match = NUMBER.exec(text);
  if (match === null) return `expected a number, got ${JSON.stringify(text.slice(0, 64))}`;
  const [, minus, whole = '', fraction = '', exponent = '0'] = match;
  const significant = `${whole}${fraction}`.replace(/^0+/, '');
  if (significant === '') return 0n; // any zero, "-0" and "0.0e5" included
  if (minus !== undefined) return `expected a non-negative integer, got ${text.slice(0, 64)}`;
  const digits = significant.replace(/0+$/, '');
  const shift = Number(exponent) - fraction.length + (significant.length - digits.length);
  if (shift < 0) return `expected a whole number, got ${text.slice(0, 64)}`;
  if (digits.length + shift > MAX_COUNT_DIGITS) return `number out of range: ${text.slice(0, 64)}`;
  return BigInt(digits) * 10n ** BigInt(shift);
}

/**
 * Typed, located access to the members of a JSON object: every accessor either returns the type
 * it names or throws a BillingImportError naming the member's JSON path (and file and line), so
 * the page parsers read like the documented schema and can't forget to validate.
 *
 * Required accessors throw MISSING_FIELD for an absent member and INVALID_VALUE for a value of the
 * wrong type, null included. `optional…` accessors return undefined for an absent member or null
 * (the APIs write null for "not grouped by this"), INVALID_VALUE for any other wrong type.
 */
export class JsonObjectReader {
  private constructor(
    /** The object read. */
    readonly node: JsonObject,
    /** Where the object is. */
    readonly site: JsonSite,
  ) {}

  /** A page's root object; `location.field` is the path prefix (a page's index in its file). */
  static root(value: JsonValue, location: BillingErrorLocation = {}): JsonObjectReader {
    const line = value instanceof JsonObject || value instanceof JsonArray ? value.line : location.line;
    return JsonObjectReader.at(value, { file: location.file, line, path: location.field ?? '' });
  }

  /** The object at `site`; INVALID_VALUE when the value is not an object. */
  static at(value: JsonValue, site: JsonSite): JsonObjectReader {
    if (!(value instanceof JsonObject)) throw invalid(site, `expected an object, got ${describeJson(value)}`);
    return new JsonObjectReader(value, site);
  }

  /** Where member `name` is (or would be, when absent: the object's line). */
  siteOf(name: string): JsonSite {
    return {
      file: this.site.file,
      line: this.node.lineOf(name) ?? this.site.line,
      path: jsonPath(this.site.path, name),
    };
  }

  /** The error location of member `name`, for `exactDecimal` and `utcSeconds`. */
  where(name: string): BillingErrorLocation {
    return siteLocation(this.siteOf(name));
  }

  /** Member `name`, whatever its type (null included); MISSING_FIELD when absent. */
  value(name: string): JsonValue {
    const value = this.node.get(name);
    if (value === undefined) {
      throw new BillingImportError('MISSING_FIELD', `missing required field "${name}"`, this.where(name));
    }
    return value;
  }

  /** Member `name`; undefined when absent or null. */
  optional(name: string): Exclude<JsonValue, null> | undefined {
    return this.node.get(name) ?? undefined;
  }

  string(name: string): string {
    return this.expectString(name, this.value(name));
  }

  optionalString(name: string): string | undefined {
    const value = this.optional(name);
    return value === undefined ? undefined : this.expectString(name, value);
  }

  boolean(name: string): boolean {
    return this.expectBoolean(name, this.value(name));
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.optional(name);
    return value === undefined ? undefined : this.expectBoolean(name, value);
  }

  /** A JSON number's literal text (for `exactDecimal`); never a string holding a number. */
  numberText(name: string): string {
    const value = this.value(name);
    if (!(value instanceof JsonNumber))
      throw invalid(this.siteOf(name), `expected a number, got ${describeJson(value)}`);
    if (value.text.length > MAX_NUMBER_LENGTH) {
      throw invalid(this.siteOf(name), `number literal longer than ${MAX_NUMBER_LENGTH} characters`);
    }
    return value.text;
  }

  /** A count (tokens, requests): a JSON number that is a non-negative integer, exact. */
  count(name: string): bigint {
    return this.expectCount(name, this.value(name));
  }

  /** A count that may be absent or null (then undefined). */
  optionalCount(name: string): bigint | undefined {
    const value = this.optional(name);
    return value === undefined ? undefined : this.expectCount(name, value);
  }

  /** A unix time in whole seconds (JSON number), up to year 9999. */
  unixSeconds(name: string): number {
    const seconds = this.expectCount(name, this.value(name));
    if (seconds > BigInt(MAX_UNIX_SECONDS)) {
      throw invalid(this.siteOf(name), `not a unix time in seconds: ${seconds} is after the year 9999`);
    }
    return Number(seconds);
  }

  object(name: string): JsonObjectReader {
    return JsonObjectReader.at(this.value(name), this.siteOf(name));
  }

  optionalObject(name: string): JsonObjectReader | undefined {
    const value = this.optional(name);
    return value === undefined ? undefined : JsonObjectReader.at(value, this.siteOf(name));
  }

  /** An array member, as is (see `objects` for its items). */
  array(name: string): JsonArray {
    const value = this.value(name);
    if (!(value instanceof JsonArray))
      throw invalid(this.siteOf(name), `expected an array, got ${describeJson(value)}`);
    return value;
  }

  /** An array member whose items are all objects, each with its own site (`name[i]`). */
  objects(name: string): JsonObjectReader[] {
    const array = this.array(name);
    const path = jsonPath(this.site.path, name);
    const readers: JsonObjectReader[] = [];
    for (let index = 0; index < array.length; index++) {
      const site = { file: this.site.file, line: array.lineOf(index), path: jsonPath(path, index) };
      readers.push(JsonObjectReader.at(array.at(index) ?? null, site));
    }
    return readers;
  }

  private expectString(name: string, value: JsonValue): string {
    if (typeof value !== 'string') throw invalid(this.siteOf(name), `expected a string, got ${describeJson(value)}`);
    return value;
  }

  private expectBoolean(name: string, value: JsonValue): boolean {
    if (typeof value !== 'boolean') throw invalid(this.siteOf(name), `expected a boolean, got ${describeJson(value)}`);
    return value;
  }

  private expectCount(name: string, value: JsonValue): bigint {
    if (!(value instanceof JsonNumber)) {
      throw invalid(this.siteOf(name), `expected a non-negative integer, got ${describeJson(value)}`);
    }
    const count = wholeNumber(value.text);
    if (typeof count === 'string') throw invalid(this.siteOf(name), count);
    return count;
  }
}
