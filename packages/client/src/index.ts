export { AggregatorClient } from './aggregator-client.js';
export type { AggregatorClientOptions } from './aggregator-client.js';
export { ApiError } from './api-error.js';
export { PREFLIGHT_ID_PATTERN, PREFLIGHT_STATUSES } from './api-types.js';
export type { ApiErrorCode } from './api-error.js';
export type {
  ActiveThrottle,
  BudgetEvent,
  BudgetKeyStatus,
  BudgetList,
  BudgetResponse,
  BudgetStatus,
  CostRow,
  CostsRequest,
  CoverageRequest,
  CoverageRow,
  DimensionFilterParam,
  EventList,
  EventsRequest,
  PreflightAction,
  PreflightBudget,
  PreflightDecision,
  PreflightList,
  PreflightPlan,
  PreflightReason,
  PreflightRecord,
  PreflightRequest,
  PreflightStatus,
  QueryResponse,
  ThrottleList,
  TopSpanRow,
  TopSpansRequest,
} from './api-types.js';
export { readServerSentEvents } from './server-sent-events.js';
export type { ServerSentEvent } from './server-sent-events.js';
export { parseThrottle, parseThrottleDocument } from './throttle-document.js';
export type { Throttle, ThrottleDocument } from './throttle-document.js';
