import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringLiteral, StoreError, tsvRow } from '../src/index.js';
import { identifier } from '../src/clickhouse/sql-literals.js';
import { tsvField } from '../src/clickhouse/tsv.js';

describe('SQL literals', () => {
  it('quotes strings so no input can end the literal', () => {
    assert.equal(stringLiteral("it's"), "'it\\'s'");
    assert.equal(stringLiteral('a\\b'), "'a\\\\b'");
    assert.equal(stringLiteral("x' OR 1=1 --"), "'x\\' OR 1=1 --'");
    assert.equal(stringLiteral('line\nbreak\ttab\0nul'), "'line\\nbreak\\ttab\\0nul'");
  });

  it('accepts only plain identifiers', () => {
    assert.equal(identifier('costtrace_01'), 'costtrace_01');
    for (const bad of ['1abc', 'a-b', 'a b', 'db; DROP TABLE x', '', 'a'.repeat(65), 'ab`c']) {
      assert.throws(
        () => identifier(bad),
        (err: unknown) => err instanceof StoreError && err.code === 'INVALID_IDENTIFIER',
        bad,
      );
    }
  });
});

describe('TabSeparated encoding', () => {
  it('escapes separators and backslashes in strings', () => {
    assert.equal(tsvField('a\tb\nc\\d'), 'a\\tb\\nc\\\\d');
  });

  it('writes numbers, bigints and booleans as text', () => {
    assert.equal(tsvField(18446744073709551615n), '18446744073709551615');
    assert.equal(tsvField(1.5), '1.5');
    assert.equal(tsvField(true), '1');
    assert.throws(() => tsvField(Number.NaN));
  });

  it('writes string arrays in ClickHouse quoted-literal array syntax', () => {
    assert.equal(tsvField(['a', "b'c", 'd\te']), "['a','b\\'c','d\\te']");
    assert.equal(tsvRow(['x', 1n, []]), 'x\t1\t[]\n');
  });
});
