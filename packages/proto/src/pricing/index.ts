export {
  appliedToWire,
  formatQuantity,
  inputTokenRule,
  moneyFromWire,
  moneyToWire,
  overrideFromWire,
  overrideToWire,
  priceFromWire,
  priceToWire,
  priceUnits,
  pricingModels,
  quoteLineToWire,
  quoteToWire,
  resourceTypes,
  serviceTiers,
  timestampFromWire,
  timestampToWire,
  usageKinds,
} from './price-wire.js';
export type { EnumMapper } from './price-wire.js';
export { PricingApi } from './pricing-api.js';
export type { SnapshotHolder } from './pricing-api.js';
