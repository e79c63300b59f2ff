export { CostSpanProcessor } from './span-cost-processor.js';
export type { CostSpanProcessorOptions, CostSpanProcessorStats } from './span-cost-processor.js';
