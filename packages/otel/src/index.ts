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
export {
  BUNDLED_CATALOG_VERSION,
  bundledPricingView,
  JOB_KINDS,
  JobAttr,
  PricingView,
  REFERENCE_PROVIDER,
  ROLLUP_ATTRIBUTE,
  StaticPriceSource,
} from '@costtrace/core';
export type { PriceSource, SnapshotSource, TokenPriceLookup } from '@costtrace/core';
export { CostSdkError } from './sdk-error.js';
export type { CostSdkErrorCode } from './sdk-error.js';
export { migShare, recordGpuUsage, withGpu } from './gpu/gpu-usage.js';
export type { GpuDescriptor, GpuTimer, GpuUsage } from './gpu/gpu-usage.js';
export { GpuSampler } from './gpu/gpu-sampler.js';
export type { GpuSample, GpuSamplerOptions, NvidiaSmiRunner, SampledDevice } from './gpu/gpu-sampler.js';
export { PricingClient } from './pricing/pricing-client.js';
export type { PricingClientOptions, PricingClientStats } from './pricing/pricing-client.js';
export { createThrottleGuard, defaultRequestDimensions, ThrottleGuard } from './throttle/throttle-guard.js';
export type {
  DegradeContext,
  GuardDecision,
  PreflightCallOptions,
  PreflightOutcome,
  RequestDimensions,
  ThrottleGuardOptions,
} from './throttle/throttle-guard.js';
export type {
  PreflightBudget,
  PreflightDecision,
  PreflightPlan,
  PreflightReason,
  PreflightRecord,
  PreflightRequest,
  PreflightStatus,
  Throttle,
  ThrottleDocument,
} from '@costtrace/client';
