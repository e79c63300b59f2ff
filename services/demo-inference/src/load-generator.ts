import type { Logger } from 'pino';
import { ROUTES, TENANTS } from './catalog.js';
import { seededRandom, sleep } from './inference-simulator.js';

export interface LoadOptions {
  readonly targetUrl: string;
  readonly rps: number;
  readonly requests: number;
  readonly seed: number;
  /** Parallel requests at most. Default 64. */
  readonly concurrency?: number;
  readonly logger?: Logger | undefined;
}

export interface LoadSummary {
  readonly sent: number;
  readonly byStatus: Record<string, number>;
  readonly byRoute: Record<string, number>;
  readonly byTenant: Record<string, number>;
  readonly seconds: number;
}

/** Route mix of the synthetic traffic (share of requests). */
const ROUTE_WEIGHTS: Readonly<Record<string, number>> = {
  '/v1/chat/completions': 6,
  '/v1/summarize': 2,
  '/v1/generate': 3,
  '/v1/embeddings': 4,
};

function pick<T>(random: () => number, items: readonly T[], weight: (item: T) => number): T {
  const total = items.reduce((sum, item) => sum + weight(item), 0);
  let r = random() * total;
  for (const item of items) {
    r -= weight(item);
    if (r < 0) return item;
  }
  return items[items.length - 1] as T;
}

/**
 * Drives a demo-inference instance with a reproducible mix of tenants, routes and models at a
 * fixed rate; tenants travel in W3C baggage, as an edge gateway would send them.
 */
export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const random = seededRandom(options.seed);
  const started = Date.now();
  const byStatus: Record<string, number> = {};
  const byRoute: Record<string, number> = {};
  const byTenant: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const concurrency = options.concurrency ?? 64;
  const interval = 1000 / options.rps;
  for (let i = 0; i < options.requests; i++) {
    const due = started + i * interval;
    await sleep(due - Date.now());
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    const tenant = pick(random, TENANTS, (t) => t.weight);
    const route = pick(random, ROUTES, (r) => ROUTE_WEIGHTS[r.route] ?? 1);
    const model = route.models[Math.floor(random() * route.models.length)] ?? route.defaultModel;
    byRoute[route.route] = (byRoute[route.route] ?? 0) + 1;
    byTenant[tenant.tenant] = (byTenant[tenant.tenant] ?? 0) + 1;
    const request = fetch(new URL(route.route, options.targetUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        baggage: `costtrace.tenant=${encodeURIComponent(tenant.tenant)},costtrace.team=${encodeURIComponent(tenant.team)}`,
      },
      body: JSON.stringify({ model }),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
      })
      .catch((err: unknown) => {
        byStatus.error = (byStatus.error ?? 0) + 1;
        options.logger?.warn({ err, route: route.route }, 'load request failed');
      });
    const tracked: Promise<void> = request.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }
  await Promise.all(inFlight);
  return { sent: options.requests, byStatus, byRoute, byTenant, seconds: (Date.now() - started) / 1000 };
}
