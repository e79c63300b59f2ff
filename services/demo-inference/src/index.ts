export { ConfigError, DEMO_ENV_VARS, loadDemoConfig } from './config.js';
export type { DemoConfig } from './config.js';
export { DemoApp } from './demo-app.js';
export type { DemoAppDeps } from './demo-app.js';
export { runLoad } from './load-generator.js';
export type { LoadOptions, LoadSummary } from './load-generator.js';
export { startTelemetry } from './telemetry.js';
export type { Telemetry } from './telemetry.js';
