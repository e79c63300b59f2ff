import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BillingImportError,
  JSON_MAX_DEPTH,
  JSON_MAX_LENGTH,
  JsonArray,
  JsonNumber,
  JsonObject,
  parseJson,
  parseJsonPrefix,
} from '../../src/billing/index.js';
import type { JsonValue } from '../../src/billing/index.js';
import { throwsBilling } from './api-report-assertions.js';

/** The value JSON.parse would give: numbers through Number, keys as own properties (even __proto__). */
function toPlain(value: JsonValue): unknown {
  if (value instanceof JsonNumber) return Number(value.text);
  if (value instanceof JsonArray) return [...value].map(toPlain);
  if (value instanceof JsonObject) {
    const out: Record<string, unknown> = {};
    for (const [key, member] of value.entries()) {
      Object.defineProperty(out, key, { value: toPlain(member), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

function numberText(text: string): string {
  const value = parseJson(text);
  assert.ok(value instanceof JsonNumber, `${text} is not a number`);
  return value.text;
}

function object(text: string): JsonObject {
  const value = parseJson(text);
  assert.ok(value instanceof JsonObject);
  return value;
}

describe('parseJson: values', () => {
  it('keeps every number as its literal text', () => {
    for (const text of ['0', '-0', '0.06', '0.1', '0.2', '0.30000000000000004', '1.5e-7', '-2E+10', '100.000']) {
      assert.equal(numberText(text), text);
    }
    // Beyond 2^53: JSON.parse would give 12345678901234567000.
    assert.equal(numberText('12345678901234567890'), '12345678901234567890');
    assert.notEqual(String(JSON.parse('12345678901234567890')), '12345678901234567890');
    const list = parseJson('[0.1, 0.2, 123456789012345678901234567890]');
    assert.ok(list instanceof JsonArray);
    assert.deepEqual(
      [...list].map((n) => (n instanceof JsonNumber ? n.text : n)),
      ['0.1', '0.2', '123456789012345678901234567890'],
    );
  });

  it('reads literals, nesting and whitespace', () => {
    assert.equal(parseJson(' true '), true);
    assert.equal(parseJson('false'), false);
    assert.equal(parseJson('\t\r\n null \r\n'), null);
    const doc = object('{ "a" : [ 1 , { "b" : [ ] , "c" : { } } , "x" , null , true ] , "d" : false }');
    assert.deepEqual(toPlain(doc), { a: [1, { b: [], c: {} }, 'x', null, true], d: false });
    assert.equal(doc.size, 2);
    assert.ok(doc.has('d'));
    assert.equal(doc.get('missing'), undefined);
    assert.deepEqual([...doc.keys()], ['a', 'd']);
  });

  it('decodes every string escape, \\u escapes and surrogate pairs', () => {
    assert.equal(parseJson(String.raw`"\" \\ \/ \b \f \n \r \t"`), '" \\ / \b \f \n \r \t');
    assert.equal(parseJson(String.raw`"\u0041\u00e9\u00E9\u20AC"`), 'Aéé€');
    assert.equal(parseJson(String.raw`"\ud83d\ude00 and \uD83D\uDE00"`), '😀 and 😀');
    assert.equal(parseJson('"raw 😀 é ü"'), 'raw 😀 é ü');
    assert.equal(parseJson(String.raw`"\u0000"`), '\u0000');
    // A lone surrogate is kept, as JSON.parse does.
    assert.equal(parseJson(String.raw`"\ud800x"`), '\ud800x');
    assert.equal(parseJson('""'), '');
  });

  it('treats __proto__ and constructor as plain keys', () => {
    const doc = object('{"__proto__": 1, "constructor": "x"}');
    assert.ok(doc.get('__proto__') instanceof JsonNumber);
    assert.equal(doc.get('constructor'), 'x');
    assert.equal(doc.get('toString'), undefined);
  });

  it('records the line of every member and item', () => {
    const doc = object('{\n  "a": 1,\r\n  "b":\n    [\n      "x",\n\n      {"c": 2}\n    ]\n}');
    assert.equal(doc.line, 1);
    assert.equal(doc.lineOf('a'), 2);
    assert.equal(doc.lineOf('b'), 4);
    const b = doc.get('b');
    assert.ok(b instanceof JsonArray);
    assert.equal(b.line, 4);
    assert.equal(b.lineOf(0), 5);
    assert.equal(b.lineOf(1), 7);
    assert.equal(b.lineOf(2), undefined);
    const c = b.at(1);
    assert.ok(c instanceof JsonObject);
    assert.equal(c.lineOf('c'), 7);
  });

  it('counts lines from firstLine and skips a leading byte order mark', () => {
    const doc = parseJson('\n{"a": 1}', { firstLine: 40 });
    assert.ok(doc instanceof JsonObject);
    assert.equal(doc.line, 41);
    assert.equal(parseJson('\ufeff 7') instanceof JsonNumber, true);
  });

  it('says where the first value ends (parseJsonPrefix)', () => {
    assert.deepEqual((({ start, end, rest }) => ({ start, end, rest }))(parseJsonPrefix('  {"a":1}  \n{"b":2}')), {
      start: 2,
      end: 9,
      rest: 12,
    });
  });
});

describe('parseJson: malformed input', () => {
  const cases: readonly [string, string, number, string][] = [
    ['trailing comma in an object', '{\n  "a": 1,\n}', 3, 'trailing comma'],
    ['trailing comma in an array', '[1,\n 2,\n]', 3, 'trailing comma'],
    ['unterminated string', '{\n  "a": "abc', 2, 'unterminated string'],
    ['unterminated string after an escape', '"abc\\', 1, 'unterminated string'],
    ['raw line feed in a string', '[\n"a\nb"]', 2, 'control character U+000A'],
    ['raw tab in a string', '"a\tb"', 1, 'control character U+0009'],
    ['bad escape', '\n\n"\\x"', 3, 'invalid escape \\x'],
    ['short \\u escape', '"\\u12G4"', 1, '4 hexadecimal digits'],
    ['leading zero', '[\n 01]', 2, 'leading zeros'],
    ['negative leading zero', '-01', 1, 'leading zeros'],
    ['no digit after the point', '1.', 1, "digit after '.'"],
    ['no digit before the point', '.5', 1, 'expected a JSON value'],
    ['lone minus', '-', 1, "digit after '-'"],
    ['empty exponent', '1e', 1, 'exponent'],
    ['plus sign', '+1', 1, 'expected a JSON value'],
    ['NaN', 'NaN', 1, 'expected a JSON value'],
    ['Infinity', '-Infinity', 1, "digit after '-'"],
    ['truncated literal', 'tru', 1, 'expected a JSON value'],
    ['single quotes', "{'a': 1}", 1, 'key string'],
    ['unquoted key', '{a: 1}', 1, 'key string'],
    ['missing colon', '{"a" 1}', 1, "expected ':'"],
    ['missing comma', '[1\n 2]', 2, "expected ',' or ']'"],
    ['missing comma in an object', '{"a": 1 "b": 2}', 1, "expected ',' or '}'"],
    ['unclosed array', '[1, 2', 1, 'end of input'],
    ['empty text', '', 1, 'no JSON value'],
    ['whitespace only', ' \n\n ', 3, 'no JSON value'],
    ['two values', '{"a":1}\n\n{"b":2}', 3, 'after the end of the JSON value'],
    ['extra brace', '{"a":1}}', 1, "unexpected character '}' after the end"],
    ['duplicate key', '{\n"a": 1,\n"a": 2}', 3, 'duplicate key "a"'],
    ['comment', '[1] // no', 1, 'after the end'],
  ];
  for (const [name, text, line, says] of cases) {
    it(`rejects ${name} at line ${line}`, () => {
      throwsBilling(() => parseJson(text), 'INVALID_FORMAT', { line, says });
    });
  }

  it('names the file and counts from firstLine', () => {
    throwsBilling(() => parseJson('{"a": x}', { file: 'usage.jsonl', firstLine: 12 }), 'INVALID_FORMAT', {
      file: 'usage.jsonl',
      line: 12,
      says: "unexpected character 'x'",
    });
  });

  it(`accepts nesting of ${JSON_MAX_DEPTH} levels and refuses one more (TOO_LARGE)`, () => {
    const deepest = '['.repeat(JSON_MAX_DEPTH) + ']'.repeat(JSON_MAX_DEPTH);
    assert.ok(parseJson(deepest) instanceof JsonArray);
    const tooDeep = `{"a":\n\n${'[{"b":'.repeat(32)}1${'}]'.repeat(32)}}`;
    throwsBilling(() => parseJson(tooDeep), 'TOO_LARGE', { line: 3, says: 'deeper than 64' });
  });

  it(`refuses text longer than ${JSON_MAX_LENGTH} characters (TOO_LARGE)`, () => {
    const padded = `${' '.repeat(JSON_MAX_LENGTH - 1)}1`;
    assert.ok(parseJson(padded) instanceof JsonNumber);
    throwsBilling(() => parseJson(`${padded} `, { file: 'big.json' }), 'TOO_LARGE', { file: 'big.json' });
  });
});

describe('parseJson against JSON.parse (property)', () => {
  it('reads what JSON.stringify writes as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
        assert.deepEqual(toPlain(parseJson(text)), JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips any string, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        assert.equal(parseJson(JSON.stringify(s)), s);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the text of any number JSON.stringify writes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.bigInt()), (n) => {
        const text = typeof n === 'bigint' ? n.toString() : JSON.stringify(n);
        assert.equal(numberText(text), text);
      }),
    );
  });

  it('accepts and refuses the same texts as JSON.parse (duplicate keys and a BOM aside)', () => {
    const token = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"',
      '\\',
      '"a"',
      '"b"',
      'u',
      '0',
      '1',
      '9',
      '-',
      '+',
      '.',
      'e',
      'true',
      'null',
      'fals',
      ' ',
      '\n',
      '\t',
      '\u0001',
      '\\u00e9',
      '\\n',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 16 }), (tokens) => {
        const text = tokens.join('');
        let expected: unknown;
        let valid = true;
        try {
          expected = JSON.parse(text);
        } catch {
          valid = false;
        }
        try {
          const actual = parseJson(text);
          assert.ok(valid, `parseJson accepted ${JSON.stringify(text)}`);
          assert.deepEqual(toPlain(actual), expected);
        } catch (err) {
          if (err instanceof assert.AssertionError) throw err;
          assert.ok(err instanceof BillingImportError);
          assert.ok(!valid || err.message.includes('duplicate key'), `parseJson refused ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
