import { Money, priceFromRecord, PricingError } from '@costtrace/core';
import type { Price, PricingModel } from '@costtrace/core';
import { azureVmGpu } from './gpu-types.js';
import { asArray, asObject, asString, decimalFromNumber, optionalString } from './json-fields.js';

export interface AzurePage {
  readonly prices: Price[];
  /** The `NextPageLink` to follow, if any. */
  readonly nextPageLink: string | undefined;
}

/** Hours in a reservation term: Azure quotes reservations as one price for the whole term. */
const TERM_HOURS: Readonly<Record<string, bigint>> = { '1 Year': 8760n, '3 Years': 26_280n, '5 Years': 43_800n };

/**
 * Parses one page of the Azure Retail Prices API (`/api/retail/prices`):
 * `{ BillingCurrency, Items: [{ armSkuName, armRegionName, retailPrice, unitOfMeasure, type,
 * meterName, productName, effectiveStartDate, reservationTerm, … }], NextPageLink }`.
 *
 * Keeps Linux GPU virtual machines: `Consumption` (on-demand, or spot when the meter name says
 * "Spot"; "Low Priority" is skipped) priced per "1 Hour", and 1-year `Reservation` prices,
 * which Azure gives for the whole term and are spread over its hours here (rounded once).
 * Retail prices are JSON numbers; their shortest decimal form is taken exactly.
 */
export function parseAzureRetailPage(payload: unknown, source: string): AzurePage {
  const root = asObject(payload, 'azure');
  const items = asArray(root.Items, 'azure.Items');
  const prices: Price[] = [];
  items.forEach((value, i) => {
    const path = `azure.Items[${i}]`;
    const item = asObject(value, path);
    const armSkuName = asString(item.armSkuName, `${path}.armSkuName`);
    const gpu = azureVmGpu(armSkuName);
    if (gpu === undefined) return;
    if (item.serviceName !== 'Virtual Machines') return;
    const productName = asString(item.productName, `${path}.productName`);
    const meterName = asString(item.meterName, `${path}.meterName`);
    if (/Windows/i.test(productName) || /Low Priority/i.test(meterName)) return;
    const type = asString(item.type, `${path}.type`);
    let pricingModel: PricingModel;
    let amount = decimalFromNumber(item.retailPrice, `${path}.retailPrice`);
    if (type === 'Consumption') {
      if (item.unitOfMeasure !== '1 Hour') return;
      pricingModel = /Spot/i.test(meterName) ? 'spot' : 'on_demand';
    } else if (type === 'Reservation') {
      const term = optionalString(item.reservationTerm, `${path}.reservationTerm`) ?? '';
      const hours = TERM_HOURS[term];
      if (hours === undefined) {
        throw new PricingError('INVALID_CATALOG', `${path}.reservationTerm ${JSON.stringify(term)} is unknown`);
      }
      if (term !== '1 Year') return; // one reserved rate per key
      // Whole-term price spread over the term's hours, rounded once (half to even at 10^-12).
      amount = Money.fromRatio(Money.parse(amount), 1n, hours).toDecimalString();
      pricingModel = 'reserved';
    } else {
      return; // DevTestConsumption and other price types
    }
    prices.push(
      priceFromRecord(
        {
          provider: 'azure',
          resourceType: 'instance',
          sku: armSkuName,
          region: asString(item.armRegionName, `${path}.armRegionName`),
          kind: 'instance_time',
          unit: 'instance_hour',
          amount,
          currency: asString(item.currencyCode, `${path}.currencyCode`),
          effectiveFrom: asString(item.effectiveStartDate, `${path}.effectiveStartDate`),
          source: `${source}:${optionalString(item.meterId, `${path}.meterId`) ?? armSkuName}`,
          pricingModel,
          gpuType: gpu.gpuType,
          gpuCount: gpu.count,
          description: `${productName} ${meterName}`,
        },
        path,
      ),
    );
  });
  const next = optionalString(root.NextPageLink, 'azure.NextPageLink');
  return { prices, nextPageLink: next === '' ? undefined : next };
}
