// `costtrace dev`'s sample bill, end to end in embedded mode: the demo runs under load, then the
// load stops and a bill of its traffic is imported (OpenAI and Anthropic usage and cost reports,
// 15 % below list, plus an uninstrumented nightly job on openai/gpt-4o-mini). Reconcile, through the
// stack's API and through the CLI reading that API, must find both exactly: the nightly job as
// untraced usage at list (computed here from the catalog's prices), the discount as the rate and
// as a proposed 15 % override on every model, and nothing else.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { bundledPriceSnapshot, catalogListPrices } from '@costtrace/core';
import { run } from '@costtrace/cli';
import { createEmbeddedStack } from '../src/index.js';
import type { EmbeddedStack } from '../src/embedded-stack.js';

interface Row {
  dimensions: { provider: string; model: string };
  billedCost: string | undefined;
  billedListCost: string | undefined;
  drift: string | undefined;
  categories: Record<string, string> | undefined;
}

/** Exact decimal → pico-dollars (independent of the code under test). */
function pico(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const value = BigInt(whole) * 10n ** 12n + BigInt(fraction.padEnd(12, '0'));
  return negative ? -value : value;
}

describe('costtrace dev: a sample bill of the demo traffic, reconciled', () => {
  let dir: string;
  let stack: EmbeddedStack;
  let api: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-sample-bill-'));
    stack = createEmbeddedStack({ dataDir: dir, rps: 20, deployAfterSeconds: 3600, logger: pino({ level: 'silent' }) });
    api = (await stack.start()).api;
  });

  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds the uninstrumented caller and the discount, exactly', { timeout: 120_000 }, async () => {
    // Traffic of both providers stored (condition, not time).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(`${api}/api/v1/costs?by=provider&since=1h&source=spans`);
      const body = (await res.json()) as { rows: { dimensions: { provider: string }; spans: number }[] };
      const providers = body.rows.filter((r) => r.spans > 0).map((r) => r.dimensions.provider);
      if (providers.includes('openai') && providers.includes('anthropic')) break;
      assert.ok(Date.now() < deadline, `no spans of both providers yet: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const bill = await stack.loadSampleBill();
    assert.equal(bill.discountPercent, 15);
    assert.deepEqual(
      bill.files.map((f) => f.source),
      ['openai-usage', 'openai-costs', 'anthropic-usage', 'anthropic-cost'],
    );

    const query = 'since=7d&by=provider,model&provider=openai&provider=anthropic';
    const res = await fetch(`${api}/api/v1/reconcile?${query}`);
    assert.equal(res.status, 200);
    const report = (await res.json()) as {
      rows: Row[];
      overrides: { provider: string; model: string; discountPercent: string }[];
      notes: string[];
    };
    assert.ok(report.rows.length >= 2, JSON.stringify(report));

    const prices = catalogListPrices(bundledPriceSnapshot()).tokenPrices(
      'openai',
      'gpt-4o-mini',
      'standard',
      Date.now(),
    )!;
    const callerList = (2_000_000n * prices.input + 400_000n * prices.output) / 1_000_000n;
    for (const row of report.rows) {
      const label = `${row.dimensions.provider}/${row.dimensions.model}`;
      assert.ok(
        row.categories !== undefined && row.billedCost !== undefined && row.billedListCost !== undefined,
        label,
      );
      const isCaller = row.dimensions.provider === 'openai' && row.dimensions.model === 'gpt-4o-mini';
      // The bill is 15 % below list on every line: the rate difference is exactly that.
      assert.equal(pico(row.categories.rate!), -(pico(row.billedListCost) * 15n) / 100n, `${label} rate`);
      assert.equal(pico(row.categories.untraced!), isCaller ? callerList : 0n, `${label} untraced`);
      for (const category of ['cacheOrTier', 'unpriced', 'timing', 'unexplained']) {
        assert.equal(row.categories[category], '0', `${label} ${category}`);
      }
    }
    assert.ok(
      report.rows.some((r) => r.dimensions.model === 'gpt-4o-mini'),
      'the caller’s model is reconciled',
    );
    assert.deepEqual(
      report.overrides.map((o) => o.discountPercent),
      report.rows.map(() => '15'),
    );

    // The CLI reads the same report through the running stack's API (the stack holds the file).
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(
      [
        'reconcile',
        '--store',
        `api:${api}`,
        '--since',
        '7d',
        '--by',
        'provider,model',
        '--provider',
        'openai',
        '--provider',
        'anthropic',
        '--format',
        'json',
      ],
      { out: (t) => out.push(t), err: (t) => err.push(t), env: {} },
    );
    assert.equal(code, 0, err.join('\n'));
    const cli = JSON.parse(out.join('\n')) as { rows: Row[] };
    assert.deepEqual(
      cli.rows.map((r) => [r.dimensions.provider, r.dimensions.model, r.drift, r.categories]),
      report.rows.map((r) => [r.dimensions.provider, r.dimensions.model, r.drift, r.categories]),
    );
  });
});
