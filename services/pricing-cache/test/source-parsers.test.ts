import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PricingError } from '@costtrace/core';
import type { Price } from '@costtrace/core';
import { parseAwsOfferFile } from '../src/sources/aws-price-list.js';
import { parseAzureRetailPage } from '../src/sources/azure-retail-prices.js';
import { parseGcpSkuPage } from '../src/sources/gcp-billing-catalog.js';
import { decimalFromNumber, shiftDecimal } from '../src/sources/json-fields.js';
import { parseLiteLlmPrices } from '../src/sources/litellm-format.js';
import { fixture } from './support/fixture-server.js';

const brief = (p: Price) => [p.provider, p.sku, p.region, p.kind, p.pricingModel, p.amount.toDecimalString()];
const invalid = (err: unknown) => err instanceof PricingError && err.code === 'INVALID_CATALOG';

describe('decimal helpers', () => {
  it('recovers the exact decimal a JSON number was written as', () => {
    assert.equal(decimalFromNumber(JSON.parse('2.5e-06'), 'x'), '0.0000025');
    assert.equal(decimalFromNumber(JSON.parse('1e-07'), 'x'), '0.0000001');
    assert.equal(decimalFromNumber(JSON.parse('3.1e-07'), 'x'), '0.00000031');
    assert.equal(decimalFromNumber(JSON.parse('98.32'), 'x'), '98.32');
    assert.equal(decimalFromNumber(JSON.parse('1e21'), 'x'), '1000000000000000000000');
    assert.throws(() => decimalFromNumber('abc', 'x'), invalid);
  });

  it('shifts decimal points exactly', () => {
    assert.equal(shiftDecimal('0.0000025', 6), '2.5');
    assert.equal(shiftDecimal('0.00000001', 6), '0.01');
    assert.equal(shiftDecimal('10', 6), '10000000');
    assert.equal(shiftDecimal('0', 6), '0');
  });
});

describe('LiteLLM price map', () => {
  const prices = parseLiteLlmPrices(fixture('litellm-prices.json'), { source: 'litellm', effectiveFrom: '2025-01-01' });
  const find = (provider: string, sku: string, kind: string, tier = 'standard', above = 0n) =>
    prices.find(
      (p) =>
        p.provider === provider &&
        p.sku === sku &&
        p.kind === kind &&
        p.serviceTier === tier &&
        p.aboveInputTokens === above,
    );

  it('converts per-token costs exactly to per-1M prices, including cached input', () => {
    assert.equal(find('openai', 'gpt-4o', 'input_tokens')?.amount.toDecimalString(), '2.5');
    assert.equal(find('openai', 'gpt-4o', 'cache_read_tokens')?.amount.toDecimalString(), '1.25');
    assert.equal(find('openai', 'gpt-4o', 'output_tokens')?.unit, '1m_tokens');
    assert.equal(find('openai', 'text-embedding-3-small', 'input_tokens')?.amount.toDecimalString(), '0.02');
  });

  it('maps batch, priority and flex tiers and long-context thresholds', () => {
    assert.equal(find('openai', 'gpt-4o', 'input_tokens', 'batch')?.amount.toDecimalString(), '1.25');
    assert.equal(find('openai', 'gpt-5', 'cache_read_tokens', 'flex')?.amount.toDecimalString(), '0.0625');
    assert.equal(find('openai', 'gpt-5', 'output_tokens', 'priority')?.amount.toDecimalString(), '20');
    const long = find('anthropic', 'claude-sonnet-4-20250514', 'cache_write_tokens', 'standard', 200_000n);
    assert.equal(long?.amount.toDecimalString(), '7.5');
    assert.equal(
      find('google', 'gemini-2.5-pro', 'output_tokens', 'standard', 200_000n)?.amount.toDecimalString(),
      '15',
    );
  });

  it('takes per-request and per-image fees, and skips sample_spec and audio-only fields', () => {
    assert.equal(find('perplexity', 'sonar', 'requests')?.amount.toDecimalString(), '0.005');
    assert.equal(find('openai', 'dall-e-3', 'images')?.amount.toDecimalString(), '0.04');
    assert.equal(
      prices.some((p) => p.sku === 'sample_spec'),
      false,
    );
    assert.deepEqual(
      prices.filter((p) => p.sku === 'gpt-4o-audio-preview').map((p) => p.kind),
      ['input_tokens', 'output_tokens'],
    );
  });

  it('rejects the whole map when one cost is malformed', () => {
    const bad = fixture('litellm-prices.json') as Record<string, Record<string, unknown>>;
    bad['gpt-4o']!.output_cost_per_token = 'ten dollars';
    assert.throws(() => parseLiteLlmPrices(bad, { source: 'l', effectiveFrom: '2025-01-01' }), invalid);
    assert.throws(() => parseLiteLlmPrices([], { source: 'l', effectiveFrom: '2025-01-01' }), invalid);
    assert.throws(() => parseLiteLlmPrices({ sample_spec: {} }, { source: 'l', effectiveFrom: '2025-01-01' }), invalid);
  });
});

describe('AWS Price List offer file', () => {
  it('keeps Linux shared on-demand GPU instances and 1-year no-upfront reserved rates', () => {
    const prices = parseAwsOfferFile(fixture('aws-ec2-offer.json'), { source: 'aws' });
    assert.deepEqual(prices.map(brief).sort(), [
      ['aws', 'g6.xlarge', 'us-east-1', 'instance_time', 'on_demand', '0.8048'],
      ['aws', 'p5.48xlarge', 'us-east-1', 'instance_time', 'on_demand', '55.04'],
      ['aws', 'p5.48xlarge', 'us-east-1', 'instance_time', 'reserved', '36.186'],
    ]);
    const p5 = prices.find((p) => p.sku === 'p5.48xlarge' && p.pricingModel === 'on_demand')!;
    assert.equal(p5.gpuType, 'h100-80gb');
    assert.equal(p5.gpuCount, 8);
    assert.equal(p5.effectiveFrom, Date.parse('2025-06-01T00:00:00Z'));
    assert.match(p5.source, /8Y4VHXJ3Q9GKEPZB\.JRTCKXETXF/);
  });

  it('can be limited to named instance types', () => {
    const prices = parseAwsOfferFile(fixture('aws-ec2-offer.json'), { source: 'aws', instanceTypes: ['g6.xlarge'] });
    assert.deepEqual(
      prices.map((p) => p.sku),
      ['g6.xlarge'],
    );
  });

  it('rejects other offers and malformed prices', () => {
    const other = { ...(fixture('aws-ec2-offer.json') as object), offerCode: 'AmazonS3' };
    assert.throws(() => parseAwsOfferFile(other, { source: 'aws' }), invalid);
    const bad = fixture('aws-ec2-offer.json') as {
      terms: {
        OnDemand: Record<string, Record<string, { priceDimensions: Record<string, { pricePerUnit: object }> }>>;
      };
    };
    const term = Object.values(bad.terms.OnDemand['8Y4VHXJ3Q9GKEPZB']!)[0]!;
    Object.values(term.priceDimensions)[0]!.pricePerUnit = { USD: '55,04' };
    assert.throws(() => parseAwsOfferFile(bad, { source: 'aws' }), invalid);
  });
});

describe('Azure Retail Prices API', () => {
  it('keeps Linux GPU VMs: on-demand, spot and 1-year reservations spread over the term', () => {
    const first = parseAzureRetailPage(fixture('azure-retail-page1.json'), 'azure');
    const second = parseAzureRetailPage(fixture('azure-retail-page2.json'), 'azure');
    assert.equal(first.nextPageLink, 'NEXT_PAGE');
    assert.equal(second.nextPageLink, undefined);
    assert.deepEqual([...first.prices, ...second.prices].map(brief), [
      ['azure', 'standard_nd96isr_h100_v5', 'eastus', 'instance_time', 'on_demand', '98.32'],
      ['azure', 'standard_nd96isr_h100_v5', 'eastus', 'instance_time', 'spot', '39.328'],
      // 545184 / 8760 h = 62.2356164383561… → half-even at 12 places
      ['azure', 'standard_nd96isr_h100_v5', 'eastus', 'instance_time', 'reserved', '62.235616438356'],
      ['azure', 'standard_nc4as_t4_v3', 'westeurope', 'instance_time', 'on_demand', '0.526'],
    ]);
    assert.equal(first.prices[0]?.gpuCount, 8);
  });

  it('rejects a page with a malformed item', () => {
    const bad = fixture('azure-retail-page1.json') as { Items: Record<string, unknown>[] };
    bad.Items[0]!.retailPrice = null;
    assert.throws(() => parseAzureRetailPage(bad, 'azure'), invalid);
    assert.throws(() => parseAzureRetailPage({ Items: 'none' }, 'azure'), invalid);
  });
});

describe('GCP Cloud Billing Catalog SKUs', () => {
  it('keeps GPU SKUs per region with exact units + nanos, mapping usage types', () => {
    const first = parseGcpSkuPage(fixture('gcp-skus-page1.json'), 'gcp');
    const second = parseGcpSkuPage(fixture('gcp-skus-page2.json'), 'gcp');
    assert.equal(first.nextPageToken, 'CAE=');
    assert.equal(second.nextPageToken, undefined);
    assert.deepEqual([...first.prices, ...second.prices].map(brief), [
      ['gcp', 't4', 'us-central1', 'gpu_time', 'on_demand', '0.35'],
      ['gcp', 't4', 'us-east1', 'gpu_time', 'on_demand', '0.35'],
      ['gcp', 't4', 'us-central1', 'gpu_time', 'spot', '0.14'],
      ['gcp', 'h100-80gb', 'us-central1', 'gpu_time', 'on_demand', '11.06061'],
      ['gcp', 'h100-80gb', 'us-central1', 'gpu_time', 'committed', '7.30153'],
      ['gcp', 'l4', 'us-central1', 'gpu_time', 'on_demand', '0.56'],
    ]);
  });

  it('rejects malformed unit prices', () => {
    const bad = fixture('gcp-skus-page2.json') as {
      skus: { pricingInfo: { pricingExpression: { tieredRates: { unitPrice: { nanos: unknown } }[] } }[] }[];
    };
    bad.skus[0]!.pricingInfo[0]!.pricingExpression.tieredRates[0]!.unitPrice.nanos = 1.5;
    assert.throws(() => parseGcpSkuPage(bad, 'gcp'), invalid);
  });
});
