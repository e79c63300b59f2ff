import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, backoffProblem } from '../src/index.js';

describe('backoff', () => {
  const policy = { initialMs: 250, maxMs: 10_000, jitter: 0.2 };

  it('doubles from the initial delay up to the cap, spread by the jitter', () => {
    const middle = () => 0.5;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffDelay(policy, n, middle)),
      [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000],
    );
    assert.equal(
      backoffDelay(policy, 1, () => 0),
      200,
    );
    assert.equal(
      backoffDelay(policy, 1, () => 0.999_999),
      300,
    );
    assert.equal(backoffDelay(policy, 0, middle), 250);
    assert.equal(backoffDelay({ initialMs: 1, maxMs: Number.MAX_SAFE_INTEGER, jitter: 0 }, 10_000), 2 ** 40);
  });

  it('says what is wrong with a policy', () => {
    assert.equal(backoffProblem(policy), undefined);
    assert.match(backoffProblem({ ...policy, maxMs: 100 }) ?? '', /maxMs must be at least initialMs/);
    assert.match(backoffProblem({ ...policy, jitter: 1 }) ?? '', /jitter/);
    assert.match(backoffProblem({ ...policy, initialMs: -1 }) ?? '', /initialMs/);
  });
});
