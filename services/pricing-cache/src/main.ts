#!/usr/bin/env node
import { runService } from '@costtrace/service-kit';
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
await runService(cache, { logger: cache.logger });
