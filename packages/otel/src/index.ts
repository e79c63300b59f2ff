export { CostSpanProcessor, ROLLUP_ATTRIBUTE } from './span-cost-processor.js';
export type {
  CostSpanProcessorOptions,
  CostSpanProcessorStats,
  InstanceCostOptions,
  SpanUnpricedReason,
} from './span-cost-processor.js';
export { DIMENSION_NAMES } from './cost-dimensions.js';
export type { DimensionKeys, DimensionName } from './cost-dimensions.js';
export { detectVcsRevision, VCS_REVISION_ENV_VARS } from './vcs-revision.js';
export type { DetectedVcsRevision } from './vcs-revision.js';
export { InstanceShareMeter } from './instance/instance-share-meter.js';
export { BUNDLED_CATALOG_VERSION, bundledSnapshot } from './pricing/bundled-catalog.js';
export { PriceSnapshot, REFERENCE_PROVIDER, StaticPriceSource } from './pricing/price-snapshot.js';
export type { PriceSnapshotInit, PriceSource, SnapshotSource, TimeRate } from './pricing/price-snapshot.js';
export { CostSdkError } from './sdk-error.js';
export type { CostSdkErrorCode } from './sdk-error.js';
