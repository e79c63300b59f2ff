import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonPath, JsonObjectReader, parseJson } from '../../src/billing/index.js';
import { throwsBilling } from './api-report-assertions.js';

function reader(text: string, field?: string): JsonObjectReader {
  return JsonObjectReader.root(parseJson(text), { file: 'f.json', field });
}

describe('jsonPath', () => {
  it('writes members, items and odd keys', () => {
    assert.equal(jsonPath('', 'data'), 'data');
    assert.equal(jsonPath('data', 2), 'data[2]');
    assert.equal(jsonPath('data[2]', 'results'), 'data[2].results');
    assert.equal(jsonPath('[3]', 'data'), '[3].data');
    assert.equal(jsonPath('a', 'cache_creation.ephemeral_1h'), 'a["cache_creation.ephemeral_1h"]');
    assert.equal(jsonPath('', 'with space'), '["with space"]');
  });
});

describe('JsonObjectReader', () => {
  it('reads counts exactly in any integral JSON number form', () => {
    const r = reader(
      '{"a": 1200, "b": 1.2e3, "c": 1200.000, "d": 0, "e": -0, "f": 12345678901234567890123456, "g": 0.0e9}',
    );
    assert.deepEqual(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((k) => r.count(k)),
      [1200n, 1200n, 1200n, 0n, 0n, 12345678901234567890123456n, 0n],
    );
  });

  it('refuses negative, fractional, huge and non-number counts, naming the path', () => {
    const r = reader('{\n"neg": -1,\n"frac": 1.5,\n"tiny": 1e-3,\n"huge": 1e26,\n"text": "5",\n"nul": null}', 'x');
    throwsBilling(() => r.count('neg'), 'INVALID_VALUE', { field: 'x.neg', line: 2, says: 'non-negative integer' });
    throwsBilling(() => r.count('frac'), 'INVALID_VALUE', { field: 'x.frac', line: 3, says: 'whole number' });
    throwsBilling(() => r.count('tiny'), 'INVALID_VALUE', { field: 'x.tiny', says: 'whole number' });
    throwsBilling(() => r.count('huge'), 'INVALID_VALUE', { field: 'x.huge', says: 'out of range' });
    throwsBilling(() => r.count('text'), 'INVALID_VALUE', { field: 'x.text', says: 'got a string ("5")' });
    throwsBilling(() => r.count('nul'), 'INVALID_VALUE', { field: 'x.nul', says: 'got null' });
    throwsBilling(() => r.count('absent'), 'MISSING_FIELD', { field: 'x.absent', line: 1, file: 'f.json' });
    assert.equal(r.optionalCount('nul'), undefined);
    assert.equal(r.optionalCount('absent'), undefined);
  });

  it('reads optional strings and booleans: absent and null are undefined, other types an error', () => {
    const r = reader('{"s": "x", "n": null, "b": true, "num": 1}');
    assert.equal(r.string('s'), 'x');
    assert.equal(r.optionalString('n'), undefined);
    assert.equal(r.optionalString('absent'), undefined);
    assert.equal(r.optionalBoolean('b'), true);
    throwsBilling(() => r.optionalString('num'), 'INVALID_VALUE', {
      field: 'num',
      says: 'expected a string, got a number (1)',
    });
    throwsBilling(() => r.optionalBoolean('s'), 'INVALID_VALUE', { field: 's', says: 'expected a boolean' });
    throwsBilling(() => r.string('n'), 'INVALID_VALUE', { field: 'n', says: 'got null' });
  });

  it('reads number text, unix seconds, objects and arrays of objects', () => {
    const r = reader('{"v": 0.06, "t": 1730419200, "late": 253402300800, "o": {"k": 1}, "l": [{"k": 2}, 3]}');
    assert.equal(r.numberText('v'), '0.06');
    assert.equal(r.unixSeconds('t'), 1730419200);
    throwsBilling(() => r.unixSeconds('late'), 'INVALID_VALUE', { field: 'late', says: 'year 9999' });
    assert.equal(r.object('o').count('k'), 1n);
    assert.equal(r.object('o').site.path, 'o');
    throwsBilling(() => r.objects('l'), 'INVALID_VALUE', {
      field: 'l[1]',
      says: 'expected an object, got a number (3)',
    });
    throwsBilling(() => r.objects('o'), 'INVALID_VALUE', { field: 'o', says: 'expected an array, got an object' });
    throwsBilling(() => r.numberText('o'), 'INVALID_VALUE', { field: 'o', says: 'expected a number' });
    throwsBilling(() => reader(`{"v": 1${'0'.repeat(100)}}`).numberText('v'), 'INVALID_VALUE', {
      field: 'v',
      says: 'longer than 100',
    });
  });

  it('refuses a root that is not an object', () => {
    throwsBilling(() => JsonObjectReader.root(parseJson('[1]'), { file: 'p.json' }), 'INVALID_VALUE', {
      file: 'p.json',
      line: 1,
      says: 'expected an object, got an array',
    });
  });
});
