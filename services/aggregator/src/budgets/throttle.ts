/**
 * One active throttle as served by `GET /v1/throttles`, the SSE stream and the SDK guard: the
 * API's wire type, defined once in @costtrace/client (the SDK's ThrottleSet reads `id`,
 * `budgetId`, `scope`, `action`, `spend`, `limit`, `until`; the snake_case fields add the why
 * and the when for gateways and people).
 */
export type { ActiveThrottle } from '@costtrace/client';
