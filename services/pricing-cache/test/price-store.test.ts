import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { priceFromRecord } from '@costtrace/core';
import type { Price } from '@costtrace/core';
import { loadConfig, PriceStore } from '../src/index.js';
import { CircuitBreaker } from '../src/sources/circuit-breaker.js';
import type { StoreEvent } from '../src/price-store.js';

const price = (amount: string, effectiveFrom = '2025-01-01'): Price =>
  priceFromRecord({
    provider: 'reference',
    resourceType: 'gpu',
    sku: 't4',
    kind: 'gpu_time',
    unit: 'gpu_hour',
    amount,
    effectiveFrom,
    source: 'test',
  });

describe('PriceStore', () => {
  it('versions increase strictly and start at the publish time, so restarts without persistence still move forward', () => {
    let now = 1_000;
    const store = new PriceStore(10, () => now);
    store.publish([price('1')], []);
    assert.equal(store.current()?.version, 1_000n);
    store.publish([price('2')], []); // same millisecond
    assert.equal(store.current()?.version, 1_001n);
    now = 5_000;
    store.publish([price('3')], []);
    assert.equal(store.current()?.version, 5_000n);
  });

  it('publishes nothing when nothing changed', () => {
    const store = new PriceStore(10, () => 1);
    const events: StoreEvent[] = [];
    store.subscribe((e) => events.push(e));
    store.publish([price('1')], []);
    assert.equal(store.publish([price('1')], []), undefined);
    assert.equal(events.length, 1);
  });

  it('plans resumption: changes after a known version, a snapshot when too old or unknown', () => {
    let now = 100;
    const store = new PriceStore(2, () => now++);
    store.publish([price('1')], []);
    const v1 = store.current()!.version;
    store.publish([price('2')], []);
    const v2 = store.current()!.version;
    store.publish([price('3')], []);
    const v3 = store.current()!.version;
    assert.deepEqual(store.planResume(v3), { type: 'up-to-date' });
    const plan = store.planResume(v2);
    assert.equal(plan.type, 'changes');
    assert.deepEqual(plan.type === 'changes' ? plan.changes.map((c) => [c.baseVersion, c.version]) : [], [[v2, v3]]);
    // The log holds 2 changes (v0→v1 dropped): v1 still resumes, nothing older does.
    assert.equal(store.planResume(v1).type, 'changes');
    assert.equal(store.planResume(v1 - 1n).type, 'snapshot');
    assert.equal(store.planResume(0n).type, 'snapshot');
    assert.equal(store.planResume(v3 + 10n).type, 'snapshot');
  });

  it('refuses invalid data without changing the snapshot', () => {
    const store = new PriceStore(10, () => 1);
    store.publish([price('1')], []);
    const before = store.current();
    assert.throws(() => store.publish([price('1'), price('1')], []));
    assert.equal(store.current(), before);
  });
});

describe('CircuitBreaker', () => {
  it('opens after consecutive failures, lets one trial through after the open period, closes on success', () => {
    let now = 0;
    const breaker = new CircuitBreaker(2, 1_000, () => now);
    breaker.failure();
    assert.equal(breaker.state, 'closed');
    breaker.failure();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.allow(), false);
    assert.equal(breaker.retryInMs(), 1_000);
    now = 1_000;
    assert.equal(breaker.state, 'half-open');
    breaker.failure();
    assert.equal(breaker.state, 'open', 'a failed trial reopens');
    now = 2_500;
    breaker.success();
    assert.equal(breaker.state, 'closed');
  });
});

describe('loadConfig', () => {
  it('takes explicit values over the environment over defaults', () => {
    const env = { COSTTRACE_PRICING_PORT: '6000', COSTTRACE_PRICING_HTTP_PORT: '9000' };
    const config = loadConfig({ port: 7000 }, env);
    assert.equal(config.port, 7000);
    assert.equal(config.httpPort, 9000);
    assert.equal(config.maxMessageBytes, 16 * 1024 * 1024);
    assert.deepEqual(config.sources, [{ type: 'bundled' }]);
  });

  it('names the variable and the fix in every error', () => {
    assert.throws(() => loadConfig({}, { COSTTRACE_PRICING_TLS_CERT_FILE: 'a.pem' }), /set both or neither/);
    assert.throws(
      () => loadConfig({}, { COSTTRACE_PRICING_TLS_CLIENT_CA_FILE: 'ca.pem' }),
      /COSTTRACE_PRICING_TLS_CLIENT_CA_FILE \(mTLS\) needs TLS/,
    );
    assert.throws(() => loadConfig({}, { COSTTRACE_PRICING_AUTH_TOKENS: 'short' }), /at least 16 characters/);
    assert.throws(
      () => loadConfig({}, { COSTTRACE_PRICING_SOURCES: '[{"type":"ftp"}]' }),
      /COSTTRACE_PRICING_SOURCES\[0\]\.type must be one of bundled, file, litellm, aws, azure, gcp/,
    );
    assert.throws(
      () =>
        loadConfig({}, { COSTTRACE_PRICING_KEEPALIVE_TIME_MS: '5000', COSTTRACE_PRICING_KEEPALIVE_TIMEOUT_MS: '6000' }),
      /must be below COSTTRACE_PRICING_KEEPALIVE_TIME_MS/,
    );
  });

  it('splits comma-separated tokens and never keeps empty ones', () => {
    const config = loadConfig({}, { COSTTRACE_PRICING_AUTH_TOKENS: ' aaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbb ,' });
    assert.deepEqual(config.authTokens, ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
  });
});
