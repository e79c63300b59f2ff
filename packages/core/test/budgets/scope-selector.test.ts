import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUDGET_DIMENSIONS, CompiledScope } from '../../src/index.js';
import { parseScopeKey } from '../../src/budgets/scope-selector.js';
import type { DimensionValues } from '../../src/index.js';

function row(values: Partial<DimensionValues>): DimensionValues {
  return Object.fromEntries(BUDGET_DIMENSIONS.map((d) => [d, values[d] ?? ''])) as unknown as DimensionValues;
}

describe('scope selectors', () => {
  it('matches exact, prefix and wildcard patterns', () => {
    const scope = new CompiledScope({ service: 'chat', route: '/v1/*', model: '*' }, []);
    assert.equal(scope.matches(row({ service: 'chat', route: '/v1/chat', model: 'gpt-4o' })), true);
    assert.equal(scope.matches(row({ service: 'chat2', route: '/v1/chat', model: 'gpt-4o' })), false);
    assert.equal(scope.matches(row({ service: 'chat', route: '/v2/chat', model: 'gpt-4o' })), false);
    assert.equal(scope.matches(row({ service: 'chat', route: '/v1/', model: 'gpt-4o' })), false, '* needs a character');
    assert.equal(scope.matches(row({ service: 'chat', route: '/v1/chat', model: '' })), false, '* needs a value');
  });

  it('matches inner wildcards and treats regex characters literally', () => {
    const scope = new CompiledScope({ model: 'gpt-*-mini', route: '/a.b(*)' }, []);
    assert.equal(scope.matches(row({ model: 'gpt-4o-mini', route: '/a.b(x)' })), true);
    assert.equal(scope.matches(row({ model: 'gpt-4o-maxi', route: '/a.b(x)' })), false);
    assert.equal(scope.matches(row({ model: 'gpt-4o-mini', route: '/aXb(x)' })), false);
    const literal = new CompiledScope({ feature: 'a\\*' }, []);
    assert.equal(literal.matches(row({ feature: 'a*' })), true);
    assert.equal(literal.matches(row({ feature: 'ab' })), false);
  });

  it('expands per key and round-trips the scope key', () => {
    const scope = new CompiledScope({}, ['tenant', 'route']);
    const key = scope.scopeKey('b1', row({ tenant: 'acme|evil=1', route: '/v1/x' }));
    assert.equal(key, 'b1|tenant=acme%7Cevil%3D1|route=%2Fv1%2Fx');
    assert.deepEqual(parseScopeKey(key), { budgetId: 'b1', dimensions: { tenant: 'acme|evil=1', route: '/v1/x' } });
    assert.equal(new CompiledScope({}, []).scopeKey('b1', row({})), 'b1');
  });
});
