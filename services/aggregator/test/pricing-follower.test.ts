import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import {
  bundledPricingView,
  overrideFromRecord,
  PriceSnapshot,
  priceFromRecord,
  PricingView,
  snapshotDocument,
  viewFromDocument,
} from '@costtrace/core';
import type { OverrideRecord, PriceRecord } from '@costtrace/core';
import { ConfigError, loadConfig } from '../src/index.js';
import { PricingFollower, readPriceSnapshotFile, retroactiveChanges } from '../src/pricing/pricing-follower.js';

const logger = pino({ level: 'silent' });
const NOW = Date.parse('2026-11-20T00:00:00Z');

function record(amount: string, effectiveFrom: string, kind = 'input_tokens'): PriceRecord {
  return {
    provider: 'openai',
    resourceType: 'model',
    sku: 'gpt-4o-mini',
    kind,
    unit: '1m_tokens',
    amount,
    effectiveFrom,
    source: 'test',
  };
}

function view(version: bigint, prices: PriceRecord[], overrides: OverrideRecord[] = []): PricingView {
  const snapshot = new PriceSnapshot(
    version,
    prices.map((p, i) => priceFromRecord(p, `p${i}`)),
    overrides.map((o, i) => overrideFromRecord(o, `o${i}`)),
    NOW,
  );
  return new PricingView(snapshot, 'pricing-cache', false);
}

const BASE = [record('0.15', '2026-01-01'), record('0.60', '2026-01-01', 'output_tokens')];

describe('retroactive price changes', () => {
  it('counts prices and overrides that take effect before they arrived, not later ones', () => {
    const before = view(1n, BASE);
    const after = view(
      2n,
      [...BASE, record('0.10', '2026-11-18'), record('0.05', '2026-12-01')],
      [{ id: 'contract', provider: 'openai', discountPercent: '10', effectiveFrom: '2026-11-10' }],
    );
    const found = retroactiveChanges(before, after, NOW);
    assert.equal(found.count, 2, 'the 11-18 price and the 11-10 override; the 12-01 price is announced ahead');
    assert.equal(new Date(found.earliest).toISOString(), '2026-11-10T00:00:00.000Z');
  });

  it('sees a changed discount of an existing override', () => {
    const o = (percent: string): OverrideRecord => ({
      id: 'contract',
      provider: 'openai',
      discountPercent: percent,
      effectiveFrom: '2026-01-01',
    });
    assert.equal(retroactiveChanges(view(1n, BASE, [o('10')]), view(2n, BASE, [o('30')]), NOW).count, 1);
    assert.equal(retroactiveChanges(view(1n, BASE, [o('10')]), view(2n, BASE, [o('10')]), NOW).count, 0);
  });

  it('does not report the first pricing-cache snapshot after the bundled catalog', () => {
    assert.equal(retroactiveChanges(bundledPricingView(), view(1n, BASE), NOW).count, 0);
  });
});

describe('snapshot documents', () => {
  const dir = mkdtempSync(join(tmpdir(), 'costtrace-snapshot-doc-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips a view with its prices, overrides and version', async () => {
    const original = view(
      42n,
      [...BASE, record('0.10', '2026-11-18')],
      [{ id: 'contract', provider: 'openai', discountPercent: '12.5', effectiveFrom: '2026-01-01' }],
    );
    const file = join(dir, 'doc.json');
    writeFileSync(file, JSON.stringify(snapshotDocument(original)));
    const read = await readPriceSnapshotFile(file);
    assert.equal(read.version, 'pcache-42');
    assert.equal(read.source, 'pricing-cache');
    assert.deepEqual(
      read.snapshot.prices.map((p) => p.id),
      original.snapshot.prices.map((p) => p.id),
    );
    assert.deepEqual(snapshotDocument(read), snapshotDocument(original));
  });

  it('names the field that is wrong', () => {
    const good = snapshotDocument(view(1n, BASE));
    assert.throws(() => viewFromDocument({ ...good, format: 'v0' }, 'f.json'), /f\.json\.format/);
    assert.throws(() => viewFromDocument({ ...good, snapshotVersion: 'x' }, 'f.json'), /f\.json\.snapshotVersion/);
    assert.throws(
      () => viewFromDocument({ ...good, prices: [{ ...good.prices[0], amount: 'lots' }] }, 'f.json'),
      /f\.json\.prices\[0\]/,
    );
  });

  it('starts from the kept snapshot, from the bundled catalog when the kept one is damaged', async () => {
    const kept = join(dir, 'kept.json');
    writeFileSync(kept, JSON.stringify(snapshotDocument(view(7n, BASE))));
    const fromKept = await PricingFollower.open({ stateFile: kept, logger });
    assert.equal(fromKept.current().version, 'pcache-7');
    assert.equal(fromKept.current().stale, true, 'a kept snapshot is old: stale until pricing-cache answers');
    assert.equal(fromKept.status().source, 'state-file');
    await fromKept.close();

    writeFileSync(kept, '{"format": "costtrace.price-snapshot.v1", "version": ');
    const damaged = await PricingFollower.open({ stateFile: kept, logger });
    assert.equal(damaged.status().source, 'bundled');
    assert.equal(damaged.current().source, 'bundled');
    await damaged.close();
  });

  it('refuses to start on a snapshot file that does not exist or does not parse', async () => {
    await assert.rejects(
      PricingFollower.open({ snapshotFile: join(dir, 'missing.json'), logger }),
      /missing\.json does not exist/,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[]');
    await assert.rejects(PricingFollower.open({ snapshotFile: bad, logger }), /bad\.json/);
  });
});

describe('pricing configuration', () => {
  it('reads address, token, TLS, state file and the pricer rules', () => {
    const config = loadConfig(
      {},
      {
        COSTTRACE_PRICING_ADDRESS: 'pricing-cache:50051',
        COSTTRACE_PRICING_TOKEN: 's3cret',
        COSTTRACE_PRICING_TLS_CA_FILE: '/etc/ca.pem',
        COSTTRACE_SELF_HOSTED_PROVIDERS: 'vllm, self-hosted',
        COSTTRACE_INPUT_TOKEN_RULES: 'acme=input-excludes-cache',
      },
    );
    assert.equal(config.pricingAddress, 'pricing-cache:50051');
    assert.equal(config.pricingToken, 's3cret');
    assert.equal(config.pricingTls, true, 'a CA file implies TLS');
    assert.equal(config.pricingStateFile, '.costtrace/price-snapshot.json');
    assert.deepEqual(config.selfHostedProviders, ['vllm', 'self-hosted']);
    assert.deepEqual(config.inputTokenRules, { acme: 'input-excludes-cache' });
    assert.equal(
      loadConfig({}, { COSTTRACE_PRICING_ADDRESS: 'p:1', COSTTRACE_PRICING_STATE_FILE: '' }).pricingStateFile,
      undefined,
    );
  });

  it('stops with a message that names the fix', () => {
    const fails = (env: Record<string, string>, message: RegExp) =>
      assert.throws(
        () => loadConfig({}, env),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    fails({ COSTTRACE_PRICING_ADDRESS: 'http://pricing:50051' }, /COSTTRACE_PRICING_ADDRESS.*use host:port/);
    fails(
      { COSTTRACE_PRICING_ADDRESS: 'p:1', COSTTRACE_PRICE_SNAPSHOT_FILE: 'x.json' },
      /both set: follow pricing-cache or price from a fixed file/,
    );
    fails({ COSTTRACE_PRICING_TOKEN: 't' }, /COSTTRACE_PRICING_TOKEN is set without COSTTRACE_PRICING_ADDRESS/);
    fails({ COSTTRACE_PRICING_TLS: 'yes' }, /COSTTRACE_PRICING_TLS.*true or false/);
    fails({ COSTTRACE_INPUT_TOKEN_RULES: 'acme=sometimes' }, /COSTTRACE_INPUT_TOKEN_RULES entry "acme=sometimes"/);
  });
});
