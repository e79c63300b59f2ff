export { ConfigError } from './config/config-error.js';
export type { ConfigErrorOptions } from './config/config-error.js';
export {
  checkSetting,
  choice,
  commaList,
  configErrorFromZod,
  envReader,
  envSchema,
  flag,
  hostPort,
  httpUrl,
  integer,
  keyValuePairs,
  LOG_LEVELS,
  number,
  optional,
  pattern,
  secret,
  text,
  topicName,
} from './config/env-schema.js';
export type { Env, EnvReader, EnvShape, LogLevel, SettingSource } from './config/env-schema.js';
export { errorBody, HttpError, sendError, sendJson } from './http/http-error.js';
export type { ErrorBody, ErrorMapper } from './http/http-error.js';
export { closeHttp, listenHttp } from './http/http-server.js';
export { readJsonBody } from './http/json-body.js';
export { addOpsRoutes, OpsServer } from './http/ops-routes.js';
export type { OpsRoutesOptions, Readiness } from './http/ops-routes.js';
export { Router } from './http/router.js';
export type { Method, RouteContext, RouteHandler, RouterOptions } from './http/router.js';
export { retry } from './lifecycle/retry.js';
export type { RetryOptions } from './lifecycle/retry.js';
export { loadConfigOrExit, runService } from './lifecycle/run-service.js';
export type { RunnableService, RunServiceOptions } from './lifecycle/run-service.js';
