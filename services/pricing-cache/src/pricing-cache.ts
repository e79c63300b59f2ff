import { readFileSync } from 'node:fs';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { PricingServiceService } from '@costtrace/proto';
import { HealthImplementation } from 'grpc-health-check';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { ConfigError, ENV_VARS, loadConfig } from './config.js';
import type { PricingCacheConfig } from './config.js';
import { BearerAuth } from './grpc/bearer-auth.js';
import { PricingServiceHandlers } from './grpc/pricing-service.js';
import { OpsServer } from '@costtrace/service-kit';
import type { Readiness } from '@costtrace/service-kit';
import { PricingMetrics } from './metrics.js';
import { PriceStore } from './price-store.js';
import { Refresher } from './refresher.js';
import type { PriceSource } from './sources/price-source.js';
import { createSource } from './sources/sources.js';

/** The fully qualified service name health checks ask about. */
export const PRICING_SERVICE_NAME = 'costtrace.pricing.v1.PricingService';

export interface PricingCacheOptions {
  /** Explicit configuration; anything not given comes from the environment, then defaults. */
  readonly config?: Partial<PricingCacheConfig> | undefined;
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  readonly logger?: Logger | undefined;
  /** Extra sources (tests, embedding); appended after the configured ones. */
  readonly sources?: readonly PriceSource[] | undefined;
  /** More gRPC services served on the same server and port (e.g. a benchmark's baseline). */
  readonly extraServices?:
    | readonly { readonly definition: ServiceDefinition; readonly implementation: UntypedServiceImplementation }[]
    | undefined;
  /** Register Node process metrics (off in tests that start several instances). */
  readonly processMetrics?: boolean | undefined;
  readonly now?: (() => number) | undefined;
}

/**
 * The pricing-cache service: price sources → versioned snapshots → gRPC (PricingService and
 * grpc.health.v1) plus HTTP /metrics, /healthz, /readyz.
 */
export class PricingCache {
  readonly config: PricingCacheConfig;
  readonly logger: Logger;
  readonly metrics: PricingMetrics;
  readonly store: PriceStore;
  readonly refresher: Refresher;
  private readonly handlers: PricingServiceHandlers;
  private readonly health = new HealthImplementation({ '': 'NOT_SERVING', [PRICING_SERVICE_NAME]: 'NOT_SERVING' });
  private readonly server: Server;
  private readonly http: OpsServer;
  private stopping = false;
  private started = false;
  grpcPort = 0;
  httpPort = 0;

  constructor(options: PricingCacheOptions = {}) {
    this.config = loadConfig(options.config, options.env ?? process.env);
    this.logger = options.logger ?? pino({ level: this.config.logLevel, base: { service: 'costtrace-pricing-cache' } });
    const now = options.now ?? Date.now;
    this.store = new PriceStore(this.config.changeLogSize, now);
    const sources = [
      ...this.config.sources.map((s) => createSource(s, { maxResponseBytes: this.config.maxSourceResponseBytes })),
      ...(this.config.overridesFile === undefined
        ? []
        : [
            createSource({ type: 'file', name: 'overrides', path: this.config.overridesFile }, { maxResponseBytes: 0 }),
          ]),
      ...(options.sources ?? []),
    ];
    if (sources.length === 0) {
      throw new ConfigError(`no price sources: set ${ENV_VARS.sources}, e.g. [{"type":"bundled"}]`);
    }
    this.metrics = new PricingMetrics({
      processMetrics: options.processMetrics ?? true,
      snapshotAgeSeconds: () => this.refresher.oldestDataAgeSeconds(),
    });
    this.refresher = new Refresher({
      sources,
      store: this.store,
      metrics: this.metrics,
      logger: this.logger,
      persistPath: this.config.stateFile,
      now,
    });
    this.handlers = new PricingServiceHandlers({
      store: this.store,
      metrics: this.metrics,
      logger: this.logger,
      auth: new BearerAuth(this.config.authTokens),
      heartbeatMs: this.config.watchHeartbeatMs,
      snapshotChunkBytes: Math.min(1024 * 1024, Math.floor(this.config.maxMessageBytes / 4)),
      maxWatchBufferBytes: 4 * this.config.maxMessageBytes,
      now,
    });
    this.server = new Server({
      'grpc.max_receive_message_length': this.config.maxMessageBytes,
      'grpc.max_send_message_length': this.config.maxMessageBytes,
      'grpc.keepalive_time_ms': this.config.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': this.config.keepaliveTimeoutMs,
      'grpc.http2.min_ping_interval_without_data_ms': this.config.minPingIntervalMs,
      'grpc.keepalive_permit_without_calls': 1,
    });
    this.server.addService(PricingServiceService, this.handlers.implementation());
    this.health.addToServer(this.server);
    for (const extra of options.extraServices ?? []) this.server.addService(extra.definition, extra.implementation);
    this.http = new OpsServer({
      registry: this.metrics.registry,
      readiness: () => this.readiness(),
      logger: this.logger,
    });
  }

  /**
   * Serves the persisted snapshot at once if there is one, binds gRPC and HTTP, then refreshes
   * every source once (without a persisted snapshot, before answering) and keeps refreshing.
   */
  async start(): Promise<void> {
    const restored = await this.refresher.restore();
    const refreshed = this.refresher.start().catch((err: unknown) => {
      this.logger.error({ err }, 'first source refresh failed');
    });
    if (!restored) await refreshed;
    this.grpcPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${this.config.host}:${this.config.port}`, this.credentials(), (err, port) =>
        err === null ? resolve(port) : reject(err),
      );
    });
    if (this.config.httpPort >= 0) {
      this.httpPort = (await this.http.listen(this.config.httpHost, this.config.httpPort)).port;
    }
    this.started = true;
    this.updateHealth();
    this.store.subscribe(() => this.updateHealth());
    this.logger.info(
      {
        grpc: `${this.config.host}:${this.grpcPort}`,
        http: this.config.httpPort >= 0 ? `${this.config.httpHost}:${this.httpPort}` : 'off',
        tls: this.config.tlsCertFile !== undefined,
        mtls: this.config.tlsClientCaFile !== undefined,
        auth: this.config.authTokens.length > 0,
        version: this.store.current()?.version.toString(),
      },
      'pricing-cache listening',
    );
  }

  /**
   * Graceful shutdown: health and readiness go NOT_SERVING, refreshes stop, watch streams end,
   * in-flight unary calls finish (up to shutdownGraceMs, then they are cancelled), then the
   * listeners close. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.updateHealth();
    await this.refresher.stop();
    this.handlers.endWatchers();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.logger.warn('shutdown grace period over; cancelling in-flight calls');
        this.server.forceShutdown();
        resolve();
      }, this.config.shutdownGraceMs);
      force.unref();
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await this.http.close();
    this.logger.info('pricing-cache stopped');
  }

  private readiness(): Readiness {
    const snapshot = this.store.current();
    return {
      ready: this.started && !this.stopping && snapshot !== undefined,
      version: snapshot?.version.toString() ?? null,
      prices: snapshot?.size ?? 0,
      stale: this.store.stale,
      stopping: this.stopping,
      sources: this.refresher.sourceStatus(),
    };
  }

  private updateHealth(): void {
    const serving = this.started && !this.stopping && this.store.current() !== undefined;
    const state = serving ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', state);
    this.health.setStatus(PRICING_SERVICE_NAME, state);
  }

  private credentials(): ServerCredentials {
    const { tlsCertFile, tlsKeyFile, tlsClientCaFile } = this.config;
    if (tlsCertFile === undefined || tlsKeyFile === undefined) return ServerCredentials.createInsecure();
    const read = (path: string, variable: string): Buffer => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new ConfigError(`${variable}=${path} cannot be read: ${(err as Error).message}`);
      }
    };
    const ca = tlsClientCaFile === undefined ? null : read(tlsClientCaFile, ENV_VARS.tlsClientCaFile);
    return ServerCredentials.createSsl(
      ca,
      [
        {
          cert_chain: read(tlsCertFile, ENV_VARS.tlsCertFile),
          private_key: read(tlsKeyFile, ENV_VARS.tlsKeyFile),
        },
      ],
      ca !== null,
    );
  }
}
