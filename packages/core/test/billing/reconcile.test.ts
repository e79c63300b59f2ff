// Reconciliation on a fixture built so that the drift of each category is known. Every expected
// figure is computed by hand in the comments (list prices × tokens), not by the code under test.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundledPriceSnapshot, catalogListPrices, reconcile } from '../../src/index.js';
import type { BilledInput, ListPriceCatalog, ListTokenPrices, ReconcileOptions, TracedInput } from '../../src/index.js';

const DAY = 86_400;
const D1 = 1_796_083_200; // a UTC midnight
const D2 = D1 + DAY;
const D3 = D2 + DAY;

/** Dollars per 1M tokens → pico-dollars per 1M tokens. */
const perM = (dollars: string): bigint => {
  const [whole = '0', fraction = ''] = dollars.split('.');
  return BigInt(whole) * 10n ** 12n + BigInt(fraction.padEnd(12, '0'));
};

const PRICES: Record<string, ListTokenPrices> = {
  'openai/gpt-4o/standard': {
    currency: 'USD',
    input: perM('2.50'),
    output: perM('10'),
    cacheRead: perM('1.25'),
    cacheWrite: perM('2.50'),
  },
  'openai/gpt-4o-mini/standard': {
    currency: 'USD',
    input: perM('0.15'),
    output: perM('0.60'),
    cacheRead: perM('0.075'),
    cacheWrite: perM('0.15'),
  },
  'openai/gpt-4o-mini/batch': {
    currency: 'USD',
    input: perM('0.075'),
    output: perM('0.30'),
    cacheRead: perM('0.0375'),
    cacheWrite: perM('0.075'),
  },
  'anthropic/claude-sonnet-4-5/standard': {
    currency: 'USD',
    input: perM('3'),
    output: perM('15'),
    cacheRead: perM('0.30'),
    cacheWrite: perM('3.75'),
  },
};

const catalog: ListPriceCatalog = {
  canonicalModel: (_provider, model) => model.replace(/-20\d\d-\d\d-\d\d$/, ''),
  tokenPrices: (provider, model, tier) =>
    PRICES[`${provider}/${model}/${tier}`] ?? PRICES[`${provider}/${model}/standard`],
};

function billedRow(over: Partial<BilledInput> & Pick<BilledInput, 'day' | 'kind'>): BilledInput {
  return {
    provider: 'openai',
    model: 'gpt-4o',
    project: '',
    serviceTier: '',
    currency: 'USD',
    quantity: '0',
    billedCost: '0',
    costLines: 0,
    ...over,
  };
}

function tracedRow(over: Partial<TracedInput> & Pick<TracedInput, 'day'>): TracedInput {
  return {
    provider: 'openai',
    model: 'gpt-4o',
    project: '',
    currency: 'USD',
    spans: 10,
    requests: 10,
    inputTokens: 0n,
    outputTokens: 0n,
    cacheReadTokens: 0n,
    cacheWriteTokens: 0n,
    cost: '0',
    unpricedSpans: 0,
    unpricedInputTokens: 0n,
    unpricedOutputTokens: 0n,
    unpricedCacheReadTokens: 0n,
    unpricedCacheWriteTokens: 0n,
    ...over,
  };
}

const options = (over: Partial<ReconcileOptions> = {}): ReconcileOptions => ({
  groupBy: ['day', 'provider', 'model'],
  catalog,
  inputIncludesCache: (provider) => provider !== 'anthropic',
  billCovers: (_provider, day) => day < D3,
  ...over,
});

describe('reconcile', () => {
  it('splits one day of gpt-4o into untraced, cache accounting, unpriced and rate, exactly', () => {
    // Spans: 1,000,000 uncached input + 200,000 cache reads (stored input includes them: 1,240,000
    // with the 40,000 of unpriced spans), 100,000 output. Priced spans cost list:
    //   1.0M × 2.50 + 0.2M × 1.25 + 0.1M × 10 = 2.50 + 0.25 + 1.00 = 3.75
    // Unpriced spans: 40,000 uncached input → list 0.04M × 2.50 = 0.10
    // Bill: input 1,340,000 (an uninstrumented caller's 400,000, minus 100,000 the bill counts as
    // cached), cache_read 300,000, output 150,000 (50,000 untraced); billed at 10 % off list:
    //   list = 1.34 × 2.50 + 0.3 × 1.25 + 0.15 × 10 = 3.35 + 0.375 + 1.50 = 5.225; billed 4.7025
    // drift = 4.7025 − 3.75 = 0.9525
    //   untraced = (1.64M − 1.24M input-side) × 2.50 + 0.05M × 10 = 1.00 + 0.50 = 1.50
    //   cache accounting = 0.1M × (1.25 − 2.50) = −0.125
    //   unpriced = 0.10
    //   rate = 0.9525 − 1.50 + 0.125 − 0.10 = −0.5225 (= −10 % of 5.225)
    const report = reconcile(
      [
        billedRow({ day: D1, kind: 'input', quantity: '1340000' }),
        billedRow({ day: D1, kind: 'cache_read', quantity: '300000' }),
        billedRow({ day: D1, kind: 'output', quantity: '150000' }),
        billedRow({ day: D1, kind: 'requests', quantity: '77' }),
        billedRow({ day: D1, model: 'gpt-4o-2024-08-06', kind: 'other', billedCost: '4.7025', costLines: 3 }),
      ],
      [
        tracedRow({
          day: D1,
          model: 'gpt-4o-2024-08-06',
          inputTokens: 1_240_000n,
          cacheReadTokens: 200_000n,
          outputTokens: 100_000n,
          cost: '3.75',
          unpricedSpans: 2,
          unpricedInputTokens: 40_000n,
        }),
      ],
      options(),
    );
    assert.equal(report.rows.length, 1);
    const row = report.rows[0]!;
    assert.deepEqual(row.dimensions, { day: String(D1), provider: 'openai', model: 'gpt-4o' });
    assert.deepEqual(row.billedTokens, { input: 1_340_000n, output: 150_000n, cacheRead: 300_000n, cacheWrite: 0n });
    assert.deepEqual(row.tracedTokens, { input: 1_040_000n, output: 100_000n, cacheRead: 200_000n, cacheWrite: 0n });
    assert.equal(row.billedRequests, 77n);
    assert.equal(row.billedCost, '4.7025');
    assert.equal(row.billedCostKnown, 'all');
    assert.equal(row.billedListCost, '5.225');
    assert.equal(row.tracedListCost, '3.85');
    assert.equal(row.tracedCost, '3.75');
    assert.equal(row.untracedListCost, '1.5');
    assert.equal(row.drift, '0.9525');
    assert.deepEqual(row.categories, {
      untraced: '1.5',
      cacheOrTier: '-0.125',
      unpriced: '0.1',
      rate: '-0.5225',
      timing: '0',
      unexplained: '0',
    });
    assert.equal(report.overrides.length, 1);
    const override = report.overrides[0]!;
    assert.equal(override.effectiveRate, '0.9');
    assert.equal(override.discountPercent, '10');
    assert.deepEqual(override.record, {
      id: 'reconcile-openai-gpt-4o',
      description: 'effective rate of the openai bill for gpt-4o (costtrace reconcile)',
      provider: 'openai',
      sku: 'gpt-4o',
      resourceType: 'model',
      discountPercent: '10',
    });
  });

  it('moves what crosses midnight to timing, and calls a day the bill does not cover yet late data', () => {
    // Anthropic spans: input excludes cache. 10,000 output tokens traced on D1 were billed on D2:
    // untraced D1 = −0.01M × 15 = −0.15, D2 = +0.15 → both timing, untraced 0.
    // D3: not covered by the bill; the spans cost 2.00 → drift −2.00, all timing.
    const claude = { provider: 'anthropic', model: 'claude-sonnet-4-5' };
    // Day costs: 0.1M input × 3 + 0.05M output × 15 = 0.30 + 0.75 = 1.05 (spans of D1 have 0.06M
    // output: 1.20); the bill matches list.
    const report = reconcile(
      [
        billedRow({ ...claude, day: D1, kind: 'input', quantity: '100000' }),
        billedRow({ ...claude, day: D1, kind: 'output', quantity: '50000', billedCost: '1.05', costLines: 1 }),
        billedRow({ ...claude, day: D2, kind: 'input', quantity: '100000' }),
        billedRow({ ...claude, day: D2, kind: 'output', quantity: '70000', billedCost: '1.35', costLines: 1 }),
      ],
      [
        tracedRow({ ...claude, day: D1, inputTokens: 100_000n, outputTokens: 60_000n, cost: '1.2' }),
        tracedRow({ ...claude, day: D2, inputTokens: 100_000n, outputTokens: 60_000n, cost: '1.2' }),
        tracedRow({ ...claude, day: D3, inputTokens: 100_000n, outputTokens: 113_333n, cost: '2' }),
      ],
      options(),
    );
    const byDay = new Map(report.rows.map((r) => [Number(r.dimensions.day), r]));
    assert.equal(byDay.get(D1)!.drift, '-0.15');
    assert.deepEqual(byDay.get(D1)!.categories, {
      untraced: '0',
      cacheOrTier: '0',
      unpriced: '0',
      rate: '0',
      timing: '-0.15',
      unexplained: '0',
    });
    assert.equal(byDay.get(D2)!.drift, '0.15');
    assert.equal(byDay.get(D2)!.categories!.timing, '0.15');
    assert.equal(byDay.get(D2)!.categories!.untraced, '0');
    assert.equal(byDay.get(D3)!.billedCost, undefined);
    assert.equal(byDay.get(D3)!.drift, '-2');
    assert.equal(byDay.get(D3)!.categories!.timing, '-2');
    // The period: drift −2.00, all timing; no override (the bill is at list).
    assert.equal(report.total.length, 1);
    assert.equal(report.total[0]!.drift, '-2');
    assert.equal(report.total[0]!.categories!.timing, '-2');
    assert.deepEqual(report.overrides, []);
  });

  it('puts a batch-tier price difference under cache or tier accounting, not rate', () => {
    // 1M input tokens of gpt-4o-mini billed at the batch tier: list 0.075, billed 0.075. Spans
    // priced them at standard: 0.15. drift −0.075 = tier (0.075 − 0.15); rate 0; no override.
    const mini = { model: 'gpt-4o-mini' };
    const report = reconcile(
      [
        billedRow({
          ...mini,
          day: D1,
          kind: 'input',
          serviceTier: 'batch',
          quantity: '1000000',
          billedCost: '0.075',
          costLines: 1,
        }),
      ],
      [tracedRow({ ...mini, day: D1, inputTokens: 1_000_000n, cost: '0.15' })],
      options(),
    );
    const row = report.rows[0]!;
    assert.equal(row.drift, '-0.075');
    assert.equal(row.categories!.cacheOrTier, '-0.075');
    assert.equal(row.categories!.rate, '0');
    assert.deepEqual(report.overrides, []);
  });

  it('leaves the drift of a model without a price unexplained, and says so', () => {
    const report = reconcile(
      [billedRow({ day: D1, model: 'mystery-1', kind: 'input', quantity: '10', billedCost: '5', costLines: 1 })],
      [
        tracedRow({
          day: D1,
          model: 'mystery-1',
          inputTokens: 10n,
          cost: '0',
          unpricedSpans: 1,
          unpricedInputTokens: 10n,
        }),
      ],
      options(),
    );
    assert.equal(report.rows[0]!.drift, '5');
    assert.equal(report.rows[0]!.categories!.unexplained, '5');
    assert.equal(report.rows[0]!.billedListCost, undefined);
    assert.ok(report.notes.some((n) => n.includes('openai/mystery-1')));
  });

  it("reads each span's input as it was priced: an emitter counting cache inside input where its provider does not", () => {
    // Anthropic's API reports input without the cache; these spans came from an emitter whose
    // input includes it (1M input = 600k uncached + 400k cache reads), and their usage keys say so.
    // The bill: 600k input, 400k cache reads = 0.6 × 3 + 0.4 × 0.30 = $1.92, all traced.
    const billed = [
      billedRow({
        day: D1,
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        kind: 'input',
        quantity: '600000',
        billedCost: '1.8',
        costLines: 1,
      }),
      billedRow({
        day: D1,
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        kind: 'cache_read',
        quantity: '400000',
        billedCost: '0.12',
        costLines: 1,
      }),
    ];
    const spans = {
      day: D1,
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      inputTokens: 1_000_000n,
      cacheReadTokens: 400_000n,
      cost: '1.92',
    };
    const keyed = reconcile(
      billed,
      [tracedRow({ ...spans, inputWithCacheTokens: 1_000_000n, unkeyedCacheTokens: 0n })],
      options(),
    );
    const row = keyed.rows[0]!;
    assert.equal(row.tracedTokens.input, 600_000n);
    assert.equal(row.tracedTokens.cacheRead, 400_000n);
    assert.equal(row.drift, '0');
    assert.equal(row.untracedListCost, '0');
    // Read by the provider's rule alone, the same spans look like 1M uncached input: $1.20 over-traced.
    const byProvider = reconcile(billed, [tracedRow(spans)], options());
    assert.equal(byProvider.rows[0]!.tracedTokens.input, 1_000_000n);
    assert.equal(byProvider.rows[0]!.untracedListCost, '-1.2');
    // Rows stored without a usage key: their cache is added back where the provider's rule leaves it out.
    const unkeyed = reconcile(
      billed,
      [tracedRow({ ...spans, inputTokens: 600_000n, inputWithCacheTokens: 600_000n, unkeyedCacheTokens: 400_000n })],
      options(),
    );
    assert.equal(unkeyed.rows[0]!.tracedTokens.input, 600_000n);
  });

  it('compares usage alone where the bill states no cost', () => {
    const report = reconcile(
      [billedRow({ day: D1, kind: 'output', quantity: '300000' })],
      [tracedRow({ day: D1, outputTokens: 100_000n, cost: '1' })],
      options(),
    );
    const row = report.rows[0]!;
    assert.equal(row.billedCost, undefined);
    assert.equal(row.billedCostKnown, 'none');
    assert.equal(row.drift, undefined);
    assert.equal(row.categories, undefined);
    assert.equal(row.untracedListCost, '2'); // 0.2M × 10
    assert.ok(report.notes.some((n) => n.includes('cost report')));
  });

  it("counts a model a day's cost report does not name as billed nothing, and a cost without usage as unexplained", () => {
    // The day's OpenAI bill names gpt-4o only (cost and usage); spans of gpt-4o-mini that day were
    // billed nothing: drift −(their cost), all untraced the other way (spans with no billed usage).
    const report = reconcile(
      [
        billedRow({ day: D1, kind: 'output', quantity: '100000' }),
        billedRow({ day: D1, kind: 'other', billedCost: '1', costLines: 1 }),
      ],
      [
        tracedRow({ day: D1, outputTokens: 100_000n, cost: '1' }),
        tracedRow({ day: D1, model: 'gpt-4o-mini', outputTokens: 1_000_000n, cost: '0.6' }),
      ],
      options({ groupBy: ['model'] }),
    );
    const mini = report.rows.find((r) => r.dimensions.model === 'gpt-4o-mini')!;
    assert.equal(mini.billedCost, '0');
    assert.equal(mini.drift, '-0.6');
    assert.equal(mini.categories!.untraced, '-0.6'); // 1M output × 0.60 traced, none billed
    // A cost report alone (no usage imported for the day): the drift is not split.
    const costOnly = reconcile(
      [billedRow({ day: D1, kind: 'other', billedCost: '2', costLines: 1 })],
      [tracedRow({ day: D1, outputTokens: 100_000n, cost: '1' })],
      options(),
    );
    assert.equal(costOnly.rows[0]!.drift, '1');
    assert.equal(costOnly.rows[0]!.categories!.unexplained, '1');
    assert.equal(costOnly.rows[0]!.categories!.untraced, '0');
    assert.ok(costOnly.notes.some((n) => n.includes('no billed usage')));
  });

  it('sums groups exactly from their days', () => {
    const billed: BilledInput[] = [];
    const traced: TracedInput[] = [];
    for (const [i, day] of [D1, D2].entries()) {
      billed.push(billedRow({ day, kind: 'input', quantity: String(1_000_000 + i) }));
      billed.push(billedRow({ day, kind: 'other', billedCost: '2.5', costLines: 1 }));
      traced.push(tracedRow({ day, inputTokens: 999_999n, cost: '2.4999975' }));
    }
    const byProvider = reconcile(billed, traced, options({ groupBy: ['provider'] }));
    const byDay = reconcile(billed, traced, options());
    // Per day: drift 2.5 − 2.4999975 = 0.0000025; the provider's row holds both days: 0.000005.
    assert.deepEqual(
      byDay.rows.map((r) => r.drift),
      ['0.0000025', '0.0000025'],
    );
    assert.equal(byProvider.rows.length, 1);
    assert.equal(byProvider.rows[0]!.drift, '0.000005');
    assert.deepEqual(byProvider.rows[0]!.billedTokens.input, 2_000_001n);
  });

  it('compares by project when asked, and ignores projects otherwise', () => {
    // Project "chat": billed 1M output, traced 1M output (10.00 each side). Project "batch-jobs":
    // billed 0.1M output (1.00), no span: untraced 1.00.
    const billed = [
      billedRow({ day: D1, project: 'chat', kind: 'output', quantity: '1000000', billedCost: '10', costLines: 1 }),
      billedRow({ day: D1, project: 'batch-jobs', kind: 'output', quantity: '100000', billedCost: '1', costLines: 1 }),
    ];
    const traced = [tracedRow({ day: D1, project: 'chat', outputTokens: 1_000_000n, cost: '10' })];
    const byProject = reconcile(billed, traced, options({ groupBy: ['project'] }));
    assert.deepEqual(
      byProject.rows.map((r) => [r.dimensions.project, r.drift, r.categories!.untraced]),
      [
        ['batch-jobs', '1', '1'],
        ['chat', '0', '0'],
      ],
    );
    const whole = reconcile(billed, traced, options({ groupBy: ['model'] }));
    assert.deepEqual(
      whole.rows.map((r) => [r.dimensions.model, r.drift, r.categories!.untraced]),
      [['gpt-4o', '1', '1']],
    );
  });

  it('reads list prices from the bundled catalog', () => {
    const list = catalogListPrices(bundledPriceSnapshot());
    const prices = list.tokenPrices('openai', 'gpt-4o-2024-08-06', 'standard', Date.UTC(2026, 10, 1));
    assert.ok(prices !== undefined, 'gpt-4o is in the bundled catalog');
    assert.equal(list.canonicalModel('openai', 'gpt-4o-2024-08-06'), 'gpt-4o');
    assert.ok(prices.output > prices.input);
    assert.equal(list.tokenPrices('openai', 'no-such-model', 'standard', Date.now()), undefined);
  });
});
