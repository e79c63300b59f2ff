import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { EmbeddedAddresses, EmbeddedStackHandle, EmbeddedStackOptions } from '@costtrace/cli';
import {
  Aggregator,
  DuckDbBudgetStore,
  InProcessBus,
  InProcessMessageLog,
  loadBudgetsConfig,
  loadConfig,
} from '@costtrace/aggregator';
import { DemoApp, loadDemoConfig, runLoad, startTelemetry } from '@costtrace/demo-inference';
import type { Telemetry } from '@costtrace/demo-inference';
import { PricingCache } from '@costtrace/pricing-cache';
import { DuckDbStore } from '@costtrace/store';
import { loadSampleBill } from './sample-bill.js';
import type { SampleBill, SampleBillOptions } from './sample-bill.js';

/**
 * The demo's two commits: the second moves the self-hosted models from L4 to H100 GPUs, so
 * /v1/generate (self-hosted generation) costs several times more per request after the deploy.
 */
export const DEV_COMMITS = { before: 'a1f3c9e', after: 'b7d2e41' } as const;

const SAMPLE_BUDGET_ID = 'demo-tenant-hourly';

const SAMPLE_BUDGETS = `# Written by costtrace dev: one sample budget, no webhooks.
budgets:
  - id: ${SAMPLE_BUDGET_ID}
    name: Demo spend per tenant per hour
    scope: { service: demo-inference }
    per: [tenant]
    window: 1h
    limit_usd: "5"
    action: alert
    forecast: true
`;

interface DemoInstance {
  readonly app: DemoApp;
  readonly telemetry: Telemetry;
  readonly url: string;
}

/**
 * Everything of costtrace in one process, with no Kafka and no ClickHouse: pricing-cache
 * (gRPC on a loopback port), the aggregator on the in-process bus and DuckDB under `dataDir`,
 * budgets with a sample budget, the instrumented demo inference service and a load generator
 * that deploys a second commit half way. The same aggregator code paths as production.
 */
export class EmbeddedStack implements EmbeddedStackHandle {
  readonly dataDir: string;
  readonly budgetId = SAMPLE_BUDGET_ID;
  private pricing: PricingCache | undefined;
  private bus: InProcessBus | undefined;
  private aggregator: Aggregator | undefined;
  private demo: DemoInstance | undefined;
  private load: Promise<void> | undefined;
  private deployTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private loadStopped = false;
  private stopped: Promise<void> | undefined;
  private store: DuckDbStore | undefined;
  private sampleBillTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: EmbeddedStackOptions) {
    if (!Number.isFinite(options.rps) || options.rps < 0 || options.rps > 1000) {
      throw new RangeError(`rps must be from 0 to 1000, got ${options.rps}`);
    }
    if (!Number.isFinite(options.deployAfterSeconds) || options.deployAfterSeconds < 0) {
      throw new RangeError(`deploy-after must be a non-negative number of seconds, got ${options.deployAfterSeconds}`);
    }
    this.dataDir = resolve(options.dataDir);
  }

  async start(): Promise<EmbeddedAddresses> {
    const { logger } = this.options;
    await mkdir(this.dataDir, { recursive: true });
    const budgetsFile = join(this.dataDir, 'budgets.yaml');
    await writeFile(budgetsFile, SAMPLE_BUDGETS);

    this.pricing = new PricingCache({
      config: { host: '127.0.0.1', port: 0, httpPort: -1, stateFile: join(this.dataDir, 'pricing-snapshot.json') },
      env: {},
      logger: logger.child({ component: 'pricing-cache' }),
      processMetrics: false,
    });
    await this.pricing.start();
    const pricing = `127.0.0.1:${this.pricing.grpcPort}`;

    this.bus = new InProcessBus({ dataDir: join(this.dataDir, 'bus'), logger: logger.child({ component: 'bus' }) });
    const storePath = join(this.dataDir, 'costtrace.duckdb');
    const store = new DuckDbStore({ path: storePath });
    this.store = store;
    this.aggregator = new Aggregator({
      config: loadConfig(
        {
          httpHost: '127.0.0.1',
          grpcHost: '127.0.0.1',
          apiHost: '127.0.0.1',
          httpPort: 0,
          grpcPort: 0,
          apiPort: 0,
          retentionIntervalSeconds: 0,
          // Unstamped spans are priced from the same pricing-cache the demo's SDK follows.
          pricingAddress: pricing,
          pricingStateFile: join(this.dataDir, 'aggregator-price-snapshot.json'),
        },
        {},
      ),
      logger: logger.child({ component: 'aggregator' }),
      messageLog: new InProcessMessageLog(this.bus),
      store,
      budgetStore: new DuckDbBudgetStore(store),
      budgets: loadBudgetsConfig(
        { budgetsFile, outboxDirectory: join(this.dataDir, 'outbox'), instanceId: 'dev', tickMs: 250, flushMs: 1000 },
        {},
      ),
    });
    const addresses = await this.aggregator.start();
    const otlpHttp = `http://127.0.0.1:${addresses.http!.port}`;
    const api = `http://127.0.0.1:${addresses.api!.port}`;

    this.demo = await this.startDemo(DEV_COMMITS.before, otlpHttp, pricing, api, { gpuType: 'l4' });
    if (this.options.rps > 0) {
      this.load = this.drive();
      this.deployTimer = setTimeout(
        () => void this.deploy(otlpHttp, pricing, api),
        this.options.deployAfterSeconds * 1000,
      );
    }
    if (this.options.sampleBillAfterSeconds !== undefined && this.options.sampleBillAfterSeconds > 0) {
      this.sampleBillTimer = setTimeout(() => {
        this.loadSampleBill().then(
          (bill) =>
            logger.warn(
              {
                files: bill.files.map((f) => f.path),
                discountPercent: bill.discountPercent,
                caller: bill.uninstrumented.model,
              },
              'sample bill imported: the load stopped, and costtrace reconcile now finds the discount and the uninstrumented caller',
            ),
          (err: unknown) => logger.error({ err }, 'the sample bill could not be loaded'),
        );
      }, this.options.sampleBillAfterSeconds * 1000);
      this.sampleBillTimer.unref();
    }
    return {
      pricing,
      otlpHttp: `${otlpHttp}/v1/traces`,
      otlpGrpc: `127.0.0.1:${addresses.grpcPort!}`,
      api,
      demo: this.demo.url,
      store: storePath,
    };
  }

  private async startDemo(
    commit: string,
    otlpHttp: string,
    pricing: string,
    api: string,
    gpu: { gpuType: string },
  ): Promise<DemoInstance> {
    const config = loadDemoConfig(
      {
        mode: 'serve',
        httpHost: '127.0.0.1',
        httpPort: 0,
        otlpEndpoint: `${otlpHttp}/v1/traces`,
        otlpProtocol: 'http/protobuf',
        pricingAddress: pricing,
        throttleUrl: api,
        latencyScale: 0.05,
        gpuType: gpu.gpuType,
        serviceName: 'demo-inference',
        logLevel: 'warn',
      },
      {},
    );
    // The commit travels as a resource attribute, as a deployment's OTEL_RESOURCE_ATTRIBUTES would set it.
    const telemetry = startTelemetry(config, {
      resourceAttributes: { 'vcs.ref.head.revision': commit, 'deployment.environment.name': 'dev' },
    });
    const app = new DemoApp(config, {
      tracer: telemetry.provider.getTracer('demo-inference'),
      logger: this.options.logger.child({ component: 'demo-inference', commit }),
    });
    const url = await app.start();
    return { app, telemetry, url };
  }

  /** The deploy: the second commit starts, traffic moves to it, the first drains and stops. */
  private async deploy(otlpHttp: string, pricing: string, api: string): Promise<void> {
    if (this.stopping || this.demo === undefined) return;
    try {
      const next = await this.startDemo(DEV_COMMITS.after, otlpHttp, pricing, api, { gpuType: 'h100-80gb' });
      const previous = this.demo;
      this.demo = next;
      this.options.logger.info({ commit: DEV_COMMITS.after, url: next.url }, 'deployed the second commit');
      await previous.app.stop();
      await previous.telemetry.shutdown();
    } catch (err) {
      this.options.logger.error({ err }, 'deploying the second commit failed');
    }
  }

  /**
   * Stops the load generator, flushes the demo's telemetry and waits until every span the
   * aggregator accepted is stored: afterwards the store holds the demo's traffic, all of it.
   */
  async settle(timeoutMs = 60_000): Promise<void> {
    this.loadStopped = true;
    clearTimeout(this.deployTimer);
    await this.load;
    await this.demo?.telemetry.provider.forceFlush();
    const aggregator = this.aggregator;
    if (aggregator === undefined) return;
    const deadline = Date.now() + timeoutMs;
    // Condition-based: accepted spans are stored (or dead-lettered) by the consumer.
    while (aggregator.stats.rowsStored < aggregator.stats.spansAccepted) {
      if (Date.now() > deadline) {
        throw new Error(
          `spans not all stored after ${timeoutMs} ms: ${aggregator.stats.rowsStored} of ${aggregator.stats.spansAccepted}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * A sample bill of the demo's traffic so far (see sample-bill.ts): the load stops first, so the
   * bill and the spans cover the same requests; then `costtrace reconcile` finds the discount and
   * the uninstrumented caller.
   */
  async loadSampleBill(options: Partial<SampleBillOptions> = {}): Promise<SampleBill> {
    const store = this.store;
    const aggregator = this.aggregator;
    if (store === undefined || aggregator === undefined) throw new Error('the stack is not started');
    await this.settle();
    const now = Math.floor(Date.now() / 1000) + 1;
    return loadSampleBill(store, aggregator.priceSnapshot, join(this.dataDir, 'sample-bill'), {
      since: now - 7 * 86_400,
      until: now,
      ...options,
    });
  }

  /** Load in one-second rounds against whichever commit is deployed, until stopped. */
  private async drive(): Promise<void> {
    let seed = 1;
    while (!this.stopping && !this.loadStopped) {
      const target = this.demo;
      if (target === undefined) return;
      try {
        await runLoad({
          targetUrl: target.url,
          rps: this.options.rps,
          requests: Math.max(1, Math.round(this.options.rps)),
          seed: seed++,
          concurrency: 16,
        });
      } catch (err) {
        if (!this.stopping) this.options.logger.warn({ err }, 'load round failed');
      }
    }
  }

  /** Stops load, demo, aggregator (storing and committing in-flight batches), bus, pricing. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      clearTimeout(this.deployTimer);
      clearTimeout(this.sampleBillTimer);
      await this.load;
      if (this.demo !== undefined) {
        await this.demo.app.stop();
        await this.demo.telemetry.shutdown();
      }
      await this.aggregator?.stop();
      this.bus?.close();
      await this.pricing?.stop();
    })();
    return this.stopped;
  }
}

/** `costtrace dev`'s entry point (the EmbeddedStackModule contract of @costtrace/cli). */
export function createEmbeddedStack(options: EmbeddedStackOptions): EmbeddedStack {
  return new EmbeddedStack(options);
}
