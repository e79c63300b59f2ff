// DuckDbBudgetStore: the embedded mode's budget persistence on a temp DuckDB file. Latest
// version wins per document and per key, deletions propagate, spend is exact, and the state
// survives closing and reopening the file.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initialThresholdState } from '@costtrace/core';
import { DuckDbStore } from '@costtrace/store';
import { DuckDbBudgetStore } from '../../src/index.js';
import type { KeySnapshot } from '../../src/budgets/budget-engine.js';

function snapshot(budgetId: string, scopeKey: string, partition: number, lastSeenMs: number): KeySnapshot {
  return {
    v: 1,
    budgetId,
    scopeKey,
    dimensions: { tenant: scopeKey },
    partition,
    signature: 'sig',
    buckets: [[1, '2.5']],
    calendar: null,
    rate: null,
    thresholds: initialThresholdState('w1'),
    watermarks: [],
    firstSeenMs: 1,
    lastSeenMs,
  };
}

describe('DuckDbBudgetStore', () => {
  let dir: string;
  let path: string;
  let duck: DuckDbStore;
  let store: DuckDbBudgetStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-budgets-'));
    path = join(dir, 'costtrace.duckdb');
    duck = new DuckDbStore({ path });
    await duck.migrate();
    store = new DuckDbBudgetStore(duck);
    await store.migrate();
    await store.migrate();
  });

  after(async () => {
    await duck.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the latest version of each document, deletions included', async () => {
    await store.saveDocument({ kind: 'budget', id: 'b1', version: 1n, deleted: false, document: '{"v":1}' });
    await store.saveDocument({ kind: 'budget', id: 'b1', version: 3n, deleted: false, document: `{"note":"it's 3"}` });
    await store.saveDocument({ kind: 'budget', id: 'b1', version: 2n, deleted: false, document: '{"v":2}' });
    await store.saveDocument({ kind: 'webhook', id: 'w1', version: 5n, deleted: false, document: '{}' });
    await store.saveDocument({ kind: 'webhook', id: 'w1', version: 6n, deleted: true, document: '{}' });
    await store.saveDocument({ kind: 'preflight', id: 'pf_1', version: 7n, deleted: false, document: '{"p":1}' });
    assert.deepEqual(await store.loadDocuments(['budget', 'webhook']), [
      { kind: 'budget', id: 'b1', version: 3n, deleted: false, document: `{"note":"it's 3"}` },
      { kind: 'webhook', id: 'w1', version: 6n, deleted: true, document: '{}' },
    ]);
    assert.deepEqual(await store.loadDocuments(['preflight']), [
      { kind: 'preflight', id: 'pf_1', version: 7n, deleted: false, document: '{"p":1}' },
    ]);
  });

  it('keeps the latest key state per partition and key, with exact spend', async () => {
    await store.saveKeyStates('deltas', [
      { snapshot: snapshot('b1', 'acme', 0, 10), spend: 1_000_000_000_001n, version: 1n },
      { snapshot: snapshot('b1', 'globex', 1, 10), spend: 5n, version: 1n },
    ]);
    await store.saveKeyStates('deltas', [
      { snapshot: snapshot('b1', 'acme', 0, 20), spend: 123_456_789_012_345_678n, version: 2n },
    ]);
    const p0 = await store.loadKeyStates('deltas', [0]);
    assert.deepEqual(p0, [snapshot('b1', 'acme', 0, 20)]);
    assert.deepEqual(await store.loadKeyStates('other', [0, 1]), []);
    assert.deepEqual(await store.loadBudgetKeys('deltas', 'b1', 10), [
      { snapshot: snapshot('b1', 'acme', 0, 20), spend: 123_456_789_012_345_678n },
      { snapshot: snapshot('b1', 'globex', 1, 10), spend: 5n },
    ]);
  });

  it('persists across reopening the file', async () => {
    await duck.close();
    duck = new DuckDbStore({ path });
    store = new DuckDbBudgetStore(duck);
    await store.migrate();
    assert.equal((await store.loadDocuments(['budget', 'webhook', 'preflight'])).length, 3);
    assert.equal((await store.loadKeyStates('deltas', [0, 1])).length, 2);
  });
});
