import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Logger } from 'pino';
import {
  BUNDLED_TOKEN_PRICES,
  BUNDLED_TOKEN_PRICES_VERSION,
  TokenPriceTable,
  tokenPriceFromRecord,
} from '@costtrace/core';
import { ClickHouseStore } from '@costtrace/store';
import type { AggregatorConfig } from './config.js';
import { createKafka } from './kafka/kafka-client.js';
import { SpanConsumer } from './kafka/span-consumer.js';
import { SpanProducer } from './kafka/span-producer.js';
import { OtlpHttpIngest } from './otlp/otlp-http-ingest.js';

export interface AggregatorOptions {
  readonly config: AggregatorConfig;
  readonly logger?: Logger | undefined;
  /** Run the OTLP/HTTP receiver (default true). */
  readonly ingest?: boolean | undefined;
  /** Run the Kafka → ClickHouse consumer (default true). */
  readonly consume?: boolean | undefined;
}

/** The aggregator process: OTLP ingest → Kafka → pricing → ClickHouse. */
export class Aggregator {
  readonly logger: Logger;
  readonly store: ClickHouseStore;
  private readonly producer: SpanProducer;
  private readonly ingest: OtlpHttpIngest | undefined;
  private readonly consumer: SpanConsumer | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: AggregatorOptions) {
    const { config } = options;
    this.logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'costtrace-aggregator' } });
    const kafka = createKafka(config.kafkaBrokers, config.kafkaClientId, this.logger);
    this.store = new ClickHouseStore({
      url: config.clickhouseUrl,
      database: config.clickhouseDatabase,
      username: config.clickhouseUser,
      password: config.clickhousePassword,
    });
    this.producer = new SpanProducer(kafka, config.spansTopic);
    const prices = new TokenPriceTable(BUNDLED_TOKEN_PRICES_VERSION, BUNDLED_TOKEN_PRICES.map(tokenPriceFromRecord));
    if (options.ingest ?? true) {
      this.ingest = new OtlpHttpIngest({
        host: config.httpHost,
        port: config.httpPort,
        maxRequestBytes: config.maxRequestBytes,
        producer: this.producer,
        logger: this.logger,
        isReady: () => this.started,
      });
    }
    if (options.consume ?? true) {
      this.consumer = new SpanConsumer({
        kafka,
        topic: config.spansTopic,
        deadLetterTopic: config.deadLetterTopic,
        groupId: config.consumerGroupId,
        store: this.store,
        prices,
        logger: this.logger,
      });
    }
  }

  /** Migrates ClickHouse, connects to Kafka, starts consuming and listening. */
  async start(): Promise<{ http?: AddressInfo }> {
    await this.store.migrate();
    await this.producer.connect();
    await this.consumer?.start();
    const http = await this.ingest?.listen();
    this.started = true;
    this.logger.info(
      {
        http: http ? `${http.address}:${http.port}` : undefined,
        topic: this.options.config.spansTopic,
        database: this.store.database,
      },
      'aggregator started',
    );
    return http ? { http } : {};
  }

  get stats(): { spansAccepted: number; rowsStored: number; deadLettered: number } {
    return {
      spansAccepted: this.ingest?.spansAccepted ?? 0,
      ...(this.consumer?.stats ?? { rowsStored: 0, deadLettered: 0 }),
    };
  }

  /** Stops taking requests, lets the in-flight batch finish and commit, then disconnects. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.started = false;
      await this.ingest?.close();
      await this.consumer?.stop();
      await this.producer.disconnect();
      await this.store.close();
      this.logger.info('aggregator stopped');
    })();
    return this.stopping;
  }
}
