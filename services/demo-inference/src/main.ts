#!/usr/bin/env node
import type { IncomingMessage } from 'node:http';
import { trace } from '@opentelemetry/api';
import { createThrottleGuard } from '@costtrace/otel';
import { loadConfigOrExit, runService } from '@costtrace/service-kit';
import { pino } from 'pino';
import { loadDemoConfig } from './config.js';
import { cheaperModel, DemoApp } from './demo-app.js';
import { DemoMetrics } from './demo-metrics.js';
import { runLoad } from './load-generator.js';
import { startTelemetry } from './telemetry.js';

const boot = pino({ base: { service: 'costtrace-demo-inference' } });
const config = loadConfigOrExit(() => loadDemoConfig(), boot);
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
await runService(
  {
    start: () => app.start(),
    stop: async () => {
      await app.stop();
      await guard?.shutdown();
      await telemetry.shutdown();
    },
  },
  { logger, onStopped: () => ({ ...telemetry.processor.stats(), ...app.counts }) },
);
