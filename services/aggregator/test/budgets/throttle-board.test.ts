import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThrottleBoard } from '../../src/budgets/throttle-board.js';
import type { ThrottleChange } from '../../src/budgets/throttle-board.js';
import type { ActiveThrottle } from '../../src/budgets/throttle.js';

const throttle = (key: string, id: string): ActiveThrottle => ({
  id,
  budgetId: 'b',
  scope: { tenant: key },
  action: 'reject',
  spend: { amount: '2', currency: 'USD' },
  limit: { amount: '1', currency: 'USD' },
  until: null,
  scope_key: `b|tenant=${key}`,
  budget_id: 'b',
  budget_name: 'b',
  selector: { tenant: key },
  spend_usd: '2',
  limit_usd: '1',
  percent: 200,
  since: new Date(0).toISOString(),
  expected_until: null,
  breach: 1,
  event_id: id,
});

describe('throttle board', () => {
  it('applies changes by version: a late echo never undoes a newer change', () => {
    const board = new ThrottleBoard();
    const seen: ThrottleChange[] = [];
    board.subscribe((c) => seen.push(c));
    const engaged: ThrottleChange = { type: 'engaged', throttle: throttle('acme', 'evt_1'), version: 10 };
    const released: ThrottleChange = {
      type: 'released',
      id: 'evt_1',
      scope_key: 'b|tenant=acme',
      budget_id: 'b',
      version: 11,
    };
    assert.equal(board.apply(engaged), true);
    assert.equal(board.apply(released), true);
    assert.equal(board.apply(engaged), false, 'the echo of the older engagement is ignored');
    assert.deepEqual(board.list(), []);
    assert.equal(board.apply({ type: 'engaged', throttle: throttle('acme', 'evt_2'), version: 12 }), true);
    assert.deepEqual(
      board.list().map((t) => t.id),
      ['evt_2'],
    );
    assert.equal(board.version, 12);
    assert.deepEqual(
      seen.map((c) => c.type),
      ['engaged', 'released', 'engaged'],
    );
    assert.ok(board.nextVersion() > 12);
  });
});
