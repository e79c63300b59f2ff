#!/usr/bin/env node
import type { IncomingMessage } from 'node:http';
import { trace } from '@opentelemetry/api';
import { createThrottleGuard } from '@costtrace/otel';
import { pino } from 'pino';
import { DemoConfigError, loadDemoConfig } from './config.js';
import { cheaperModel, DemoApp } from './demo-app.js';
import { DemoMetrics } from './demo-metrics.js';
import { runLoad } from './load-generator.js';
import { startTelemetry } from './telemetry.js';

const boot = pino({ base: { service: 'costtrace-demo-inference' } });
let config;
try {
  config = loadDemoConfig();
} catch (err) {
  if (err instanceof DemoConfigError) {
    boot.fatal(`invalid configuration: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
const logger = pino({ level: config.logLevel, base: { service: config.serviceName } });

if (config.mode === 'load') {
  const summary = await runLoad({
    targetUrl: config.targetUrl,
    rps: config.loadRps,
    requests: config.loadRequests,
    seed: config.seed,
    logger,
  });
  logger.info(summary, 'load finished');
  process.exit(summary.byStatus.error === undefined ? 0 : 1);
}

const telemetry = startTelemetry(config);
const guard =
  config.throttleUrl === undefined
    ? undefined
    : createThrottleGuard<IncomingMessage>({
        url: config.throttleUrl,
        degrade: ({ request, throttle, dimensions }) => {
          const cheaper = cheaperModel(dimensions.model);
          if (throttle.action !== 'degrade' || cheaper === undefined) return false;
          (request as IncomingMessage & { degradedModel?: string }).degradedModel = cheaper;
          return true;
        },
      });
const metrics = new DemoMetrics({ processor: telemetry.processor, processMetrics: true });
const app = new DemoApp(config, { tracer: trace.getTracer('demo-inference'), logger, guard, metrics });
const shutdown = (signal: string): void => {
  logger.info({ signal }, 'shutting down');
  app
    .stop()
    .then(() => guard?.shutdown())
    .then(() => telemetry.shutdown())
    .then(
      () => {
        logger.info({ ...telemetry.processor.stats(), ...app.counts }, 'stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
};
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
try {
  await app.start();
} catch (err) {
  logger.fatal({ err }, 'demo-inference failed to start');
  process.exit(1);
}
