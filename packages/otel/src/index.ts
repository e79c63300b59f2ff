export { CostSpanProcessor } from './span-cost-processor.js';
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
// The pricer lives in @costtrace/core (one pricer for the SDK, the aggregator and pricing-cache);
// re-exported here so SDK users keep one import.
export {
  BUNDLED_CATALOG_VERSION,
  bundledPriceSnapshot,
  bundledPricingView,
  PricingView,
  REFERENCE_PROVIDER,
  ROLLUP_ATTRIBUTE,
  StaticPriceSource,
} from '@costtrace/core';
export type { PriceSource, SnapshotSource, TokenPriceLookup } from '@costtrace/core';
export { CostSdkError } from './sdk-error.js';
export type { CostSdkErrorCode } from './sdk-error.js';
export { migShare, migSlicesFor, recordGpuUsage, withGpu } from './gpu/gpu-usage.js';
export type { GpuDescriptor, GpuTimer, GpuUsage } from './gpu/gpu-usage.js';
export { devicesOf, GpuSampler, sampleGpus } from './gpu/gpu-sampler.js';
export type { GpuSample, GpuSamplerOptions, NvidiaSmiRunner, SampledDevice } from './gpu/gpu-sampler.js';
export {
  APP_QUERY_FIELDS,
  GPU_QUERY_FIELDS,
  gpuTypeFromName,
  parseComputeApps,
  parseGpuQuery,
  parseMigDevices,
} from './gpu/nvidia-smi-parser.js';
export type { ComputeApp, GpuInfo, MigDeviceInfo } from './gpu/nvidia-smi-parser.js';
export { PricingClient } from './pricing/pricing-client.js';
export type { PricingClientOptions, PricingClientStats } from './pricing/pricing-client.js';
export { createThrottleGuard, defaultRequestDimensions, ThrottleGuard } from './throttle/throttle-guard.js';
export type {
  DegradeContext,
  GuardDecision,
  RequestDimensions,
  ThrottleGuardOptions,
} from './throttle/throttle-guard.js';
export { ThrottleSet } from './throttle/throttle-set.js';
export type { Throttle, ThrottleDocument } from '@costtrace/client';
