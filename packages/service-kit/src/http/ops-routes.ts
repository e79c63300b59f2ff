import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { closeHttp, listenHttp } from './http-server.js';
import { sendJson } from './http-error.js';
import { Router } from './router.js';

/** What `/readyz` answers: ready or not, and why (fields of the service's choosing). */
export interface Readiness {
  readonly ready: boolean;
  readonly [detail: string]: unknown;
}

export interface OpsRoutesOptions {
  /** Served as Prometheus text at `/metrics`; absent: no `/metrics`. */
  readonly registry?: Registry | undefined;
  readonly readiness: () => Readiness | Promise<Readiness>;
}

/**
 * The operations endpoints every costtrace service serves, the same way: `GET /metrics`
 * (Prometheus text), `GET /healthz` (liveness: 200 `{"status":"ok"}` while the process serves)
 * and `GET /readyz` (200 when ready, 503 when not, with the service's readiness document).
 */
export function addOpsRoutes(router: Router, options: OpsRoutesOptions): Router {
  const { registry } = options;
  if (registry !== undefined) {
    router.get('/metrics', async ({ res }) => {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(body);
    });
  }
  router.get('/healthz', ({ res }) => sendJson(res, 200, { status: 'ok' }));
  router.get('/readyz', async ({ res }) => {
    const readiness = await options.readiness();
    sendJson(res, readiness.ready ? 200 : 503, readiness);
  });
  return router;
}

/** A server with the ops endpoints only (pricing-cache's, beside its gRPC port). */
export class OpsServer {
  private readonly server: Server;

  constructor(options: OpsRoutesOptions & { readonly logger: Logger }) {
    this.server = createServer(addOpsRoutes(new Router({ logger: options.logger }), options).listener());
    this.server.keepAliveTimeout = 5_000;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listenHttp(this.server, host, port);
  }

  close(): Promise<void> {
    return closeHttp(this.server);
  }
}
