#!/usr/bin/env node
import { loadConfigOrExit, runService } from '@costtrace/service-kit';
import { pino } from 'pino';
import { PricingCache } from './pricing-cache.js';

const bootLogger = pino({ base: { service: 'costtrace-pricing-cache' } });
const cache = loadConfigOrExit(() => new PricingCache(), bootLogger);
await runService(cache, { logger: cache.logger });
