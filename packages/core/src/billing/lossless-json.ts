import { BillingImportError } from './billing-error.js';

/**
 * A JSON number kept as the literal text of the document ("0.06", "12345678901234567890",
 * "1.5e-7"). Bills are money: `JSON.parse` would turn 0.06 into the nearest binary double and
 * token counts beyond 2^53 into a different integer, so the billing parsers never see a JS
 * number, only this text, which they convert exactly (`exactDecimal`, bigint).
 */
export class JsonNumber {
  constructor(
    /** The number exactly as written: valid RFC 8259 number syntax. */
    readonly text: string,
  ) {}

  toString(): string {
    return this.text;
  }
}

/** A member of a JSON object: its value and the 1-based line its value starts on. */
export interface JsonMember {
  readonly value: JsonValue;
  readonly line: number;
}

/**
 * A JSON object, read-only, with the line of each member: the billing parsers name the line of
 * a bad value, not only its path, so a person can find it in a pretty-printed file. A map, not a
 * plain object, so that keys like `__proto__` or `constructor` are just keys.
 */
export class JsonObject {
  readonly #members: ReadonlyMap<string, JsonMember>;

  constructor(
    /** 1-based line of the opening brace. */
    readonly line: number,
    members: ReadonlyMap<string, JsonMember>,
  ) {
    this.#members = members;
  }

  get size(): number {
    return this.#members.size;
  }

  has(key: string): boolean {
    return this.#members.has(key);
  }

  /** The member's value; undefined when the key is absent (a JSON null is `null`). */
  get(key: string): JsonValue | undefined {
    return this.#members.get(key)?.value;
  }

  /** The 1-based line the member's value starts on; undefined when the key is absent. */
  lineOf(key: string): number | undefined {
    return this.#members.get(key)?.line;
  }

  keys(): IterableIterator<string> {
    return this.#members.keys();
  }

  *entries(): IterableIterator<[string, JsonValue]> {
    for (const [key, member] of this.#members) yield [key, member.value];
  }
}

/** A JSON array, read-only, with the line each item starts on (see JsonObject). */
export class JsonArray implements Iterable<JsonValue> {
  readonly #items: readonly JsonValue[];
  readonly #lines: readonly number[];

  constructor(
    /** 1-based line of the opening bracket. */
    readonly line: number,
    items: readonly JsonValue[],
    lines: readonly number[],
  ) {
    this.#items = items;
    this.#lines = lines;
  }

  get length(): number {
    return this.#items.length;
  }

  /** The item at `index`; undefined past the end. */
  at(index: number): JsonValue | undefined {
    return this.#items[index];
  }

  /** The 1-based line the item at `index` starts on; undefined past the end. */
  lineOf(index: number): number | undefined {
    return this.#lines[index];
  }

  [Symbol.iterator](): IterableIterator<JsonValue> {
    return this.#items[Symbol.iterator]();
  }
}

/** A JSON value as the lossless parser returns it: numbers as text, containers with lines. */
export type JsonValue = null | boolean | string | JsonNumber | JsonArray | JsonObject;

/** Deepest nesting of arrays and objects accepted: API pages nest 4 levels; this is a guard. */
export const JSON_MAX_DEPTH = 64;
/** Longest text accepted, in UTF-16 code units (a 64 MiB UTF-8 file always fits). */
export const JSON_MAX_LENGTH = 64 * 1024 * 1024;

export interface JsonParseOptions {
  /** The file (or URL) the text comes from, named in errors. */
  readonly file?: string | undefined;
  /** The line number of the text's first line (a JSON Lines record's line in its file); default 1. */
  readonly firstLine?: number | undefined;
}

/**
 * Parses RFC 8259 JSON text, keeping every number as its literal text (JsonNumber). Errors are
 * BillingImportError INVALID_FORMAT naming the 1-based line of the offending character; text
 * longer than JSON_MAX_LENGTH or nesting deeper than JSON_MAX_DEPTH is TOO_LARGE.
 *
 * Strictness beyond `JSON.parse`: duplicate object keys are rejected (RFC 8259 leaves their
 * meaning open, and a bill must not be read one of two ways). Leniency: a leading byte order mark
 * is skipped, as RFC 8259 allows. Lone surrogates in `\u` escapes are kept, as `JSON.parse` does.
 * Lines end at line feeds (CRLF counts once; a lone CR ends no line).
 */
export function parseJson(text: string, options: JsonParseOptions = {}): JsonValue {
  const { value, rest } = parseJsonPrefix(text, options);
  if (rest < text.length) throw trailingContent(text, rest, options);
  return value;
}

/** The first JSON value of a text and where it lies (see parseJsonPrefix). */
export interface JsonPrefix {
  readonly value: JsonValue;
  /** Index of the value's first character. */
  readonly start: number;
  /** Index just past the value. */
  readonly end: number;
  /** Index of the first non-whitespace character after the value; the text's length if none. */
  readonly rest: number;
}

/**
 * Parses the first JSON value of `text` and says where the rest begins, without judging the rest:
 * for readers of JSON Lines, which must tell one value per line from one value with garbage after.
 */
export function parseJsonPrefix(text: string, options: JsonParseOptions = {}): JsonPrefix {
  if (text.length > JSON_MAX_LENGTH) {
    throw new BillingImportError(
      'TOO_LARGE',
      `JSON text of ${text.length} characters exceeds the limit of ${JSON_MAX_LENGTH}`,
      { file: options.file },
    );
  }
  const parser = new Parser(text, options.file, options.firstLine ?? 1);
  return parser.document();
}

/** The INVALID_FORMAT error for content after a complete JSON value, at its line. */
export function trailingContent(text: string, index: number, options: JsonParseOptions): BillingImportError {
  let line = options.firstLine ?? 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return new BillingImportError(
    'INVALID_FORMAT',
    `invalid JSON: unexpected ${describeChar(text.charCodeAt(index))} after the end of the JSON value`,
    { file: options.file, line },
  );
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const NEWLINE = 0x0a;
const BOM = 0xfeff;

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function hexValue(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** A character for an error message: quoted when printable, U+XXXX otherwise. */
function describeChar(c: number): string {
  if (Number.isNaN(c)) return 'end of input';
  const hex = `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  return c >= 0x20 && c < 0x7f ? `character '${String.fromCharCode(c)}'` : `character ${hex}`;
}

/**
 * Recursive descent over the text's UTF-16 code units. Line breaks can only occur in whitespace
 * (a raw line feed inside a string is an error), so the line counter lives in skipWhitespace.
 */
class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly file: string | undefined,
    private line: number,
  ) {}

  document(): JsonPrefix {
    if (this.text.charCodeAt(0) === BOM) this.pos = 1;
    this.skipWhitespace();
    const start = this.pos;
    if (start >= this.text.length) throw this.error('the text holds no JSON value');
    const value = this.value();
    const end = this.pos;
    this.skipWhitespace();
    return { value, start, end, rest: this.pos };
  }

  private error(problem: string): BillingImportError {
    return new BillingImportError('INVALID_FORMAT', `invalid JSON: ${problem}`, { file: this.file, line: this.line });
  }

  private unexpected(expected: string): BillingImportError {
    return this.error(`unexpected ${describeChar(this.text.charCodeAt(this.pos))}, expected ${expected}`);
  }

  private skipWhitespace(): void {
    const text = this.text;
    for (;;) {
      const c = text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0d) this.pos++;
      else if (c === NEWLINE) {
        this.pos++;
        this.line++;
      } else return;
    }
  }

  private value(): JsonValue {
    const c = this.text.charCodeAt(this.pos);
    if (c === OPEN_BRACE) return this.object();
    if (c === OPEN_BRACKET) return this.array();
    if (c === QUOTE) return this.string();
    if (c === MINUS || isDigit(c)) return this.number();
    if (this.text.startsWith('true', this.pos)) return this.literal('true', true);
    if (this.text.startsWith('false', this.pos)) return this.literal('false', false);
    if (this.text.startsWith('null', this.pos)) return this.literal('null', null);
    throw this.unexpected('a JSON value');
  }

  private literal<T extends boolean | null>(word: string, value: T): T {
    this.pos += word.length;
    return value;
  }

  private enter(what: string): void {
    if (++this.depth > JSON_MAX_DEPTH) {
      throw new BillingImportError('TOO_LARGE', `invalid JSON: ${what} nested deeper than ${JSON_MAX_DEPTH} levels`, {
        file: this.file,
        line: this.line,
      });
    }
  }

  private object(): JsonObject {
    const line = this.line;
    this.enter('object');
    this.pos++; // {
    const members = new Map<string, JsonMember>();
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === CLOSE_BRACE) {
      this.pos++;
      this.depth--;
      return new JsonObject(line, members);
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== QUOTE) {
        throw this.unexpected(members.size === 0 ? "a key string or '}'" : 'a key string');
      }
      const keyLine = this.line;
      const key = this.string();
      if (members.has(key)) {
        throw new BillingImportError('INVALID_FORMAT', `invalid JSON: duplicate key ${JSON.stringify(key)}`, {
          file: this.file,
          line: keyLine,
        });
      }
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== COLON) throw this.unexpected("':'");
      this.pos++;
      this.skipWhitespace();
      const valueLine = this.line;
      members.set(key, { value: this.value(), line: valueLine });
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos);
      if (c === CLOSE_BRACE) {
        this.pos++;
        this.depth--;
        return new JsonObject(line, members);
      }
      if (c !== COMMA) throw this.unexpected("',' or '}'");
      this.pos++;
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) === CLOSE_BRACE) throw this.error("trailing comma before '}'");
    }
  }

  private array(): JsonArray {
    const line = this.line;
    this.enter('array');
    this.pos++; // [
    const items: JsonValue[] = [];
    const lines: number[] = [];
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === CLOSE_BRACKET) {
      this.pos++;
      this.depth--;
      return new JsonArray(line, items, lines);
    }
    for (;;) {
      lines.push(this.line);
      items.push(this.value());
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos);
      if (c === CLOSE_BRACKET) {
        this.pos++;
        this.depth--;
        return new JsonArray(line, items, lines);
      }
      if (c !== COMMA) throw this.unexpected("',' or ']'");
      this.pos++;
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) === CLOSE_BRACKET) throw this.error("trailing comma before ']'");
    }
  }

  /** A string token; `pos` is at its opening quote. Unescaped runs are copied with one slice. */
  private string(): string {
    const text = this.text;
    let pos = this.pos + 1;
    let out = '';
    let run = pos;
    for (;;) {
      if (pos >= text.length) {
        this.pos = pos;
        throw this.error('unterminated string');
      }
      const c = text.charCodeAt(pos);
      if (c === QUOTE) {
        this.pos = pos + 1;
        return out + text.slice(run, pos);
      }
      if (c === BACKSLASH) {
        out += text.slice(run, pos);
        this.pos = pos;
        out += this.escape();
        pos = this.pos;
        run = pos;
      } else if (c < 0x20) {
        this.pos = pos;
        throw this.error(`unescaped control ${describeChar(c)} in a string (write it as an escape)`);
      } else pos++;
    }
  }

  /** One escape sequence; `pos` is at its backslash. Leaves `pos` just past it. */
  private escape(): string {
    const next = this.text.charAt(this.pos + 1);
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      this.pos += 2;
      return simple;
    }
    if (next !== 'u') {
      this.pos++;
      throw this.error(
        next === ''
          ? 'unterminated string'
          : `invalid escape \\${next} in a string (valid: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`,
      );
    }
    let code = 0;
    for (let i = 2; i < 6; i++) {
      const digit = hexValue(this.text.charCodeAt(this.pos + i));
      if (digit < 0) {
        this.pos += i;
        throw this.error('invalid \\u escape: expected 4 hexadecimal digits');
      }
      code = code * 16 + digit;
    }
    this.pos += 6;
    // A surrogate pair arrives as two escapes; as UTF-16 code units they join by concatenation.
    return String.fromCharCode(code);
  }

  /** A number token, validated against the RFC 8259 grammar and kept as text. */
  private number(): JsonNumber {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    if (text.charCodeAt(pos) === MINUS) pos++;
    const first = text.charCodeAt(pos);
    if (first === ZERO) {
      pos++;
      if (isDigit(text.charCodeAt(pos))) {
        this.pos = pos;
        throw this.error('a number may not have leading zeros');
      }
    } else if (isDigit(first)) {
      while (isDigit(text.charCodeAt(pos))) pos++;
    } else {
      this.pos = pos;
      throw this.unexpected("a digit after '-'");
    }
    if (text.charCodeAt(pos) === DOT) {
      pos++;
      if (!isDigit(text.charCodeAt(pos))) {
        this.pos = pos;
        throw this.unexpected("a digit after '.'");
      }
      while (isDigit(text.charCodeAt(pos))) pos++;
    }
    const e = text.charCodeAt(pos);
    if (e === 0x65 || e === 0x45) {
      pos++;
      const sign = text.charCodeAt(pos);
      if (sign === PLUS || sign === MINUS) pos++;
      if (!isDigit(text.charCodeAt(pos))) {
        this.pos = pos;
        throw this.unexpected('a digit in the exponent');
      }
      while (isDigit(text.charCodeAt(pos))) pos++;
    }
    this.pos = pos;
    return new JsonNumber(text.slice(start, pos));
  }
}
