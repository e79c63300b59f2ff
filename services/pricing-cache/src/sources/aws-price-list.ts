import { priceFromRecord, PricingError } from '@costtrace/core';
import type { Price, PricingModel } from '@costtrace/core';
import { awsInstanceGpu } from './gpu-types.js';
import { asObject, asString, optionalString } from './json-fields.js';

export interface AwsPriceListOptions {
  readonly source: string;
  /** Only these instance types (lower case); empty: every GPU instance family costtrace knows. */
  readonly instanceTypes?: readonly string[] | undefined;
}

/**
 * Parses an AWS Price List offer file for Amazon EC2 (the `offers/v1.0/aws/AmazonEC2/...`
 * `index.json` format: `products` by SKU with `attributes`, and `terms.OnDemand` /
 * `terms.Reserved` by SKU → offer term → `priceDimensions` → `pricePerUnit.USD`).
 *
 * Keeps Linux, shared-tenancy, no-pre-installed-software, used-capacity GPU instances: on-demand
 * hourly rates, and reserved rates for No Upfront terms (the hourly dimension). Prices are
 * exact decimal strings in the file; the term's `effectiveDate` is the effective-from.
 * Any malformed product or term rejects the whole file.
 */
export function parseAwsOfferFile(payload: unknown, options: AwsPriceListOptions): Price[] {
  const root = asObject(payload, 'offer');
  const offerCode = optionalString(root.offerCode, 'offer.offerCode');
  if (offerCode !== undefined && offerCode !== 'AmazonEC2') {
    throw new PricingError(
      'INVALID_CATALOG',
      `offer.offerCode is ${offerCode}; only AmazonEC2 offers carry GPU instances`,
    );
  }
  const products = asObject(root.products, 'offer.products');
  const terms = asObject(root.terms, 'offer.terms');
  const onDemand = asObject(terms.OnDemand ?? {}, 'offer.terms.OnDemand');
  const reserved = asObject(terms.Reserved ?? {}, 'offer.terms.Reserved');
  const wanted =
    options.instanceTypes === undefined || options.instanceTypes.length === 0
      ? undefined
      : new Set(options.instanceTypes);
  const prices: Price[] = [];
  for (const [sku, value] of Object.entries(products)) {
    const path = `offer.products[${sku}]`;
    const product = asObject(value, path);
    const attrs = asObject(product.attributes, `${path}.attributes`);
    if (product.productFamily !== 'Compute Instance') continue;
    const instanceType = asString(attrs.instanceType, `${path}.attributes.instanceType`).toLowerCase();
    if (wanted !== undefined && !wanted.has(instanceType)) continue;
    const gpu = awsInstanceGpu(instanceType, optionalString(attrs.gpu, `${path}.attributes.gpu`));
    if (gpu === undefined) continue;
    if (
      attrs.operatingSystem !== 'Linux' ||
      attrs.tenancy !== 'Shared' ||
      (attrs.preInstalledSw ?? 'NA') !== 'NA' ||
      (attrs.capacitystatus ?? 'Used') !== 'Used' ||
      (attrs.licenseModel ?? 'No License required') !== 'No License required' ||
      (attrs.operation ?? 'RunInstances') !== 'RunInstances'
    ) {
      continue;
    }
    const region = asString(attrs.regionCode, `${path}.attributes.regionCode`);
    const emit = (termsBySku: Record<string, unknown>, pricingModel: PricingModel, where: string): void => {
      const offers = termsBySku[sku];
      if (offers === undefined) return;
      for (const [termCode, termValue] of Object.entries(asObject(offers, `${where}[${sku}]`))) {
        const termPath = `${where}[${sku}][${termCode}]`;
        const term = asObject(termValue, termPath);
        const attributes = asObject(term.termAttributes ?? {}, `${termPath}.termAttributes`);
        // One reserved rate per key: the 1-year standard No Upfront term (an hourly rate).
        const reservedTerm =
          attributes.PurchaseOption === 'No Upfront' &&
          attributes.OfferingClass === 'standard' &&
          attributes.LeaseContractLength === '1yr';
        if (pricingModel === 'reserved' && !reservedTerm) continue;
        const suffix = pricingModel === 'reserved' ? ' 1yr standard no upfront' : '';
        for (const [dimCode, dimValue] of Object.entries(
          asObject(term.priceDimensions, `${termPath}.priceDimensions`),
        )) {
          const dimPath = `${termPath}.priceDimensions[${dimCode}]`;
          const dim = asObject(dimValue, dimPath);
          if (dim.unit !== 'Hrs') continue;
          const usd = asString(
            asObject(dim.pricePerUnit, `${dimPath}.pricePerUnit`).USD,
            `${dimPath}.pricePerUnit.USD`,
          );
          prices.push(
            priceFromRecord(
              {
                provider: 'aws',
                resourceType: 'instance',
                sku: instanceType,
                region,
                kind: 'instance_time',
                unit: 'instance_hour',
                amount: usd,
                currency: 'USD',
                effectiveFrom: asString(term.effectiveDate, `${termPath}.effectiveDate`),
                source: `${options.source}:${sku}.${termCode}`,
                pricingModel,
                gpuType: gpu.gpuType,
                gpuCount: gpu.count,
                description: optionalString(dim.description, `${dimPath}.description`) ?? `${instanceType}${suffix}`,
              },
              dimPath,
            ),
          );
        }
      }
    };
    emit(onDemand, 'on_demand', 'offer.terms.OnDemand');
    emit(reserved, 'reserved', 'offer.terms.Reserved');
  }
  if (prices.length === 0) throw new PricingError('INVALID_CATALOG', 'offer: no GPU instance prices found');
  return prices;
}
