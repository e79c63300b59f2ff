// Starts an Aggregator on the live services with unique names and ephemeral ports.
import { Aggregator, loadConfig } from '../../src/index.js';
import type { AggregatorAddresses, AggregatorConfig, AggregatorOptions } from '../../src/index.js';
import { liveServices } from './live-services.js';
import type { uniqueNames } from './live-services.js';

export interface Harness {
  readonly aggregator: Aggregator;
  readonly addresses: AggregatorAddresses;
  readonly names: ReturnType<typeof uniqueNames>;
  readonly config: AggregatorConfig;
}

export function harnessConfig(
  names: ReturnType<typeof uniqueNames>,
  overrides: Partial<AggregatorConfig> = {},
): AggregatorConfig {
  const services = liveServices();
  return loadConfig(
    {
      kafkaBrokers: services.kafkaBrokers,
      clickhouseUrl: services.clickhouseUrl,
      clickhouseDatabase: names.database,
      spansTopic: names.topic,
      deadLetterTopic: names.dlqTopic,
      consumerGroupId: names.groupId,
      httpPort: 0,
      grpcPort: 0,
      apiPort: 0,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      retentionIntervalSeconds: 0,
      logLevel: 'warn',
      ...overrides,
    },
    {},
  );
}

export async function startAggregator(
  names: ReturnType<typeof uniqueNames>,
  overrides: Partial<AggregatorConfig> = {},
  options: Omit<AggregatorOptions, 'config'> = {},
): Promise<Harness> {
  const config = harnessConfig(names, overrides);
  const aggregator = new Aggregator({ ...options, config });
  const addresses = await aggregator.start();
  return { aggregator, addresses, names, config };
}
