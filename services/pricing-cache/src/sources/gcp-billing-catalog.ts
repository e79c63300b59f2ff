import { formatScaled, priceFromRecord, PricingError } from '@costtrace/core';
import type { Price, PricingModel } from '@costtrace/core';
import { gcpGpuFromDescription } from './gpu-types.js';
import { asArray, asObject, asString, optionalString } from './json-fields.js';

export interface GcpPage {
  readonly prices: Price[];
  readonly nextPageToken: string | undefined;
}

const USAGE_TYPES: Readonly<Record<string, PricingModel>> = {
  OnDemand: 'on_demand',
  Preemptible: 'spot',
  Commit1Yr: 'committed',
};

/**
 * Parses one page of the GCP Cloud Billing Catalog API (`/v1/services/{id}/skus`):
 * `{ skus: [{ skuId, description, category: { resourceGroup, usageType }, serviceRegions,
 * pricingInfo: [{ effectiveTime, pricingExpression: { usageUnit, tieredRates: [{
 * startUsageAmount, unitPrice: { currencyCode, units, nanos } }] } }] }], nextPageToken }`.
 *
 * Keeps GPU SKUs (`resourceGroup` "GPU") priced per hour: on-demand, preemptible/spot (spot)
 * and 1-year commitments (committed), one price per service region. `units` + `nanos` are
 * exact; the first tier (start 0) is the rate.
 */
export function parseGcpSkuPage(payload: unknown, source: string): GcpPage {
  const root = asObject(payload, 'gcp');
  const skus = asArray(root.skus ?? [], 'gcp.skus');
  const prices: Price[] = [];
  skus.forEach((value, i) => {
    const path = `gcp.skus[${i}]`;
    const sku = asObject(value, path);
    const category = asObject(sku.category, `${path}.category`);
    if (category.resourceGroup !== 'GPU') return;
    const description = asString(sku.description, `${path}.description`);
    const gpuType = gcpGpuFromDescription(description);
    const pricingModel = USAGE_TYPES[asString(category.usageType, `${path}.category.usageType`)];
    if (gpuType === undefined || pricingModel === undefined) return;
    const info = asArray(sku.pricingInfo, `${path}.pricingInfo`)[0];
    if (info === undefined) throw new PricingError('INVALID_CATALOG', `${path}.pricingInfo is empty`);
    const pricing = asObject(info, `${path}.pricingInfo[0]`);
    const expression = asObject(pricing.pricingExpression, `${path}.pricingInfo[0].pricingExpression`);
    if (expression.usageUnit !== 'h') return;
    const rates = asArray(expression.tieredRates, `${path}.pricingInfo[0].pricingExpression.tieredRates`);
    const first = rates
      .map((r, j) => asObject(r, `${path}.pricingInfo[0].pricingExpression.tieredRates[${j}]`))
      .find((r) => (r.startUsageAmount ?? 0) === 0);
    if (first === undefined) throw new PricingError('INVALID_CATALOG', `${path}: no tier starting at 0`);
    const unitPrice = asObject(first.unitPrice, `${path}.tieredRates[0].unitPrice`);
    const units = asString(unitPrice.units ?? '0', `${path}.tieredRates[0].unitPrice.units`);
    const nanos = unitPrice.nanos ?? 0;
    if (
      !/^\d+$/.test(units) ||
      typeof nanos !== 'number' ||
      !Number.isInteger(nanos) ||
      nanos < 0 ||
      nanos > 999_999_999
    ) {
      throw new PricingError('INVALID_CATALOG', `${path}: unitPrice must have integer units and nanos 0..999999999`);
    }
    const amount = formatScaled(BigInt(units) * 1_000_000_000n + BigInt(nanos), 9);
    const regions = asArray(sku.serviceRegions, `${path}.serviceRegions`).map((r, j) =>
      asString(r, `${path}.serviceRegions[${j}]`),
    );
    for (const region of regions) {
      prices.push(
        priceFromRecord(
          {
            provider: 'gcp',
            resourceType: 'gpu',
            sku: gpuType,
            region,
            kind: 'gpu_time',
            unit: 'gpu_hour',
            amount,
            currency: asString(unitPrice.currencyCode, `${path}.tieredRates[0].unitPrice.currencyCode`),
            effectiveFrom: asString(pricing.effectiveTime, `${path}.pricingInfo[0].effectiveTime`),
            source: `${source}:${optionalString(sku.skuId, `${path}.skuId`) ?? description}`,
            pricingModel,
            gpuType,
            gpuCount: 1,
            description,
          },
          path,
        ),
      );
    }
  });
  const next = optionalString(root.nextPageToken, 'gcp.nextPageToken');
  return { prices, nextPageToken: next === '' ? undefined : next };
}
