import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEMO_ENV_VARS, loadDemoConfig } from '../src/index.js';

describe('DEMO_ENV_VARS', () => {
  it('is exactly what loadDemoConfig reads (serve mode without export allowed)', () => {
    const read = new Set<string>();
    const env = new Proxy(
      {},
      {
        get(_target, name) {
          if (typeof name !== 'string') return undefined;
          read.add(name);
          return name === 'DEMO_ALLOW_NO_EXPORT' ? 'true' : undefined;
        },
      },
    );
    loadDemoConfig({}, env);
    assert.deepEqual([...read].sort(), [...DEMO_ENV_VARS].sort());
  });
});
