import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readTokenCount } from '../src/index.js';

describe('readTokenCount, the one token-count rule', () => {
  it('reads non-negative safe integers as numbers, bigints and digit strings; absent is 0', () => {
    for (const [value, count] of [
      [undefined, 0],
      [0, 0],
      [1200, 1200],
      [1200n, 1200],
      ['1200', 1200],
      [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
      [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
    ] as const) {
      assert.deepEqual(readTokenCount(value), { ok: true, count }, String(value));
    }
  });

  it('says why anything else is not a count', () => {
    for (const [value, problem] of [
      [Number.NaN, 'not_a_number'],
      [Number.POSITIVE_INFINITY, 'not_a_number'],
      [1.5, 'not_an_integer'],
      ['1.5', 'not_an_integer'],
      ['12 tokens', 'not_an_integer'],
      [true, 'not_an_integer'],
      [null, 'not_an_integer'],
      [-1, 'negative'],
      ['-3', 'negative'],
      [-1n, 'negative'],
      [2 ** 60, 'too_large'],
      ['90071992547409920', 'too_large'],
      [2n ** 64n, 'too_large'],
    ] as const) {
      assert.deepEqual(readTokenCount(value), { ok: false, problem }, String(value));
    }
  });
});
