#!/usr/bin/env node
import { pino } from 'pino';
import { ConfigError } from './config.js';
import { PricingCache } from './pricing-cache.js';

const bootLogger = pino({ base: { service: 'costtrace-pricing-cache' } });
let cache: PricingCache;
try {
  cache = new PricingCache();
} catch (err) {
  if (err instanceof ConfigError) {
    bootLogger.fatal(`invalid configuration: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
const shutdown = (signal: string): void => {
  cache.logger.info({ signal }, 'shutting down');
  cache.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      cache.logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
try {
  await cache.start();
} catch (err) {
  cache.logger.fatal({ err }, 'pricing-cache failed to start');
  await cache.stop().catch(() => undefined);
  process.exit(1);
}
