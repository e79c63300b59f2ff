import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AGGREGATOR_ENV_VARS, BUDGETS_ENV_VARS, loadBudgetsConfig, loadConfig } from '../src/index.js';

/** An environment that records every name read from it. */
function recordingEnv(): { env: Record<string, string | undefined>; read: Set<string> } {
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
  return { env, read };
}

describe('machine-readable env var lists', () => {
  it('loadConfig reads exactly AGGREGATOR_ENV_VARS', () => {
    const { env, read } = recordingEnv();
    loadConfig({}, env);
    assert.deepEqual([...read].sort(), [...AGGREGATOR_ENV_VARS].sort());
  });

  it('loadBudgetsConfig reads exactly BUDGETS_ENV_VARS', () => {
    const { env, read } = recordingEnv();
    loadBudgetsConfig({}, env);
    assert.deepEqual([...read].sort(), [...BUDGETS_ENV_VARS].sort());
  });
});
