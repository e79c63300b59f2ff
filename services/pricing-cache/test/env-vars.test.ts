import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, PRICING_CACHE_ENV_VARS } from '../src/index.js';

describe('PRICING_CACHE_ENV_VARS', () => {
  it('is exactly what loadConfig reads', () => {
    const read = new Set<string>();
    const env = new Proxy(
      {},
      {
        get(_target, name) {
          if (typeof name === 'string') read.add(name);
          return undefined;
        },
      },
    );
    loadConfig({}, env);
    assert.deepEqual([...read].sort(), [...PRICING_CACHE_ENV_VARS].sort());
  });
});
