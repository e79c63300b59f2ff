import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import type { FastifyRequest } from 'fastify';
import { createThrottleGuard } from '../src/index.js';
import { ThrottleSet } from '../src/throttle/throttle-set.js';
import type { Throttle } from '../src/index.js';

/**
 * An in-test aggregator serving the throttle API contract (README): GET /v1/throttles and the
 * SSE variant GET /v1/throttles/stream with snapshot / engaged / released events.
 */
class FakeThrottleApi {
  throttles: Record<string, unknown>[] = [];
  polls = 0;
  private streams: ServerResponse[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      if (req.url === '/v1/throttles') {
        this.polls += 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ version: this.polls, throttles: this.throttles }));
      } else if (req.url === '/v1/throttles/stream') {
        this.streamOpens += 1;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(`: hello\n\nevent: snapshot\ndata: ${JSON.stringify({ throttles: this.throttles })}\n\n`);
        this.streams.push(res);
        req.on('close', () => (this.streams = this.streams.filter((s) => s !== res)));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  engage(throttle: Record<string, unknown>, announce = true): void {
    this.throttles.push(throttle);
    if (announce) for (const s of this.streams) s.write(`event: engaged\ndata: ${JSON.stringify(throttle)}\n\n`);
  }

  /** Connections opened on the stream endpoint so far. */
  streamOpens = 0;

  release(id: string): void {
    this.throttles = this.throttles.filter((t) => t.id !== id);
    for (const s of this.streams) s.write(`event: released\ndata: ${JSON.stringify({ id })}\n\n`);
  }

  get streamCount(): number {
    return this.streams.length;
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.end();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const acme = (until?: string) => ({
  id: 'thr-1',
  budgetId: 'tenant-acme-daily',
  scope: { tenant: 'acme' },
  spend: { amount: '105.230000000001', currency: 'USD' },
  limit: { amount: '100', currency: 'USD' },
  until: until ?? null,
});

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const quiet = { warn() {}, info() {}, error() {}, debug() {}, verbose() {} };
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('throttle guard', () => {
  it('node:http + polling: 429 with Retry-After while a throttle is active, recovers when released', async () => {
    const api = new FakeThrottleApi();
    await api.start();
    cleanups.push(() => api.stop());
    const guard = createThrottleGuard({ url: api.url, mode: 'poll', pollIntervalMs: 100, logger: quiet });
    cleanups.push(() => guard.shutdown());
    const app = createServer(guard.wrap((_req: IncomingMessage, res: ServerResponse) => res.end('ok')));
    const base = await listen(app);
    cleanups.push(() => new Promise((r) => app.close(r)));
    assert.equal(await guard.ready(), true);

    const call = (tenant: string) => fetch(`${base}/v1/chat`, { headers: { 'x-costtrace-tenant': tenant } });
    assert.equal((await call('acme')).status, 200);

    const lift = new Date(Date.now() + 90_000).toISOString();
    api.engage(acme(lift));
    await until(() => guard.throttles().length === 1);
    const throttled = await call('acme');
    assert.equal(throttled.status, 429);
    const retryAfter = Number(throttled.headers.get('retry-after'));
    assert.ok(retryAfter > 85 && retryAfter <= 90, `Retry-After ${retryAfter}`);
    const body = (await throttled.json()) as Record<string, unknown>;
    assert.equal(body.budgetId, 'tenant-acme-daily');
    assert.deepEqual(body.scope, { tenant: 'acme' });
    // Another tenant is not in scope; baggage carries the tenant too.
    assert.equal((await call('globex')).status, 200);
    const viaBaggage = await fetch(`${base}/x`, { headers: { baggage: 'costtrace.tenant=acme' } });
    assert.equal(viaBaggage.status, 429);

    api.release('thr-1');
    await until(() => guard.throttles().length === 0);
    assert.equal((await call('acme')).status, 200);
    assert.equal(guard.stats().rejected, 2);
  });

  it('Express + SSE stream: route and model scope, degrade hook routes to a cheaper model', async () => {
    const api = new FakeThrottleApi();
    await api.start();
    cleanups.push(() => api.stop());
    const degraded: string[] = [];
    const guard = createThrottleGuard<express.Request>({
      url: api.url,
      logger: quiet,
      degrade: ({ request, throttle }) => {
        if (throttle.action !== 'degrade') return false;
        (request.body as { model: string }).model = 'gpt-4o-mini';
        degraded.push(throttle.budgetId);
        return true;
      },
    });
    cleanups.push(() => guard.shutdown());
    const app = express();
    app.post('/v1/chat', express.json(), guard.express(), (req, res) => {
      res.json({ model: (req.body as { model: string }).model });
    });
    const server = createServer(app);
    const base = await listen(server);
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    });
    await until(() => api.streamCount === 1);
    const chat = (model: string) =>
      fetch(`${base}/v1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model }),
      });
    assert.deepEqual(await (await chat('gpt-4o')).json(), { model: 'gpt-4o' });

    api.engage({
      id: 'thr-route',
      budgetId: 'chat-gpt-4o-hourly',
      scope: { route: '/v1/chat', model: 'gpt-4o' },
      action: 'reject',
      spend: { amount: '12', currency: 'USD' },
      limit: { amount: '10', currency: 'USD' },
      until: null,
    });
    await until(() => guard.throttles().length === 1);
    const rejected = await chat('gpt-4o');
    assert.equal(rejected.status, 429);
    assert.equal(rejected.headers.get('retry-after'), '30');
    assert.deepEqual(await (await chat('gpt-4o-mini')).json(), { model: 'gpt-4o-mini' });

    api.release('thr-route');
    api.engage({ ...acme(), id: 'thr-deg', budgetId: 'chat-degrade', scope: { model: 'gpt-4o' }, action: 'degrade' });
    await until(
      () =>
        guard
          .throttles()
          .map((t: Throttle) => t.id)
          .join() === 'thr-deg',
    );
    assert.deepEqual(await (await chat('gpt-4o')).json(), { model: 'gpt-4o-mini' });
    assert.deepEqual(degraded, ['chat-degrade']);
    api.release('thr-deg');
    await until(() => guard.throttles().length === 0);
    assert.deepEqual(await (await chat('gpt-4o')).json(), { model: 'gpt-4o' });
  });

  it('Fastify hook: 429 in scope, through otherwise', async () => {
    const api = new FakeThrottleApi();
    api.throttles.push({ ...acme(), scope: { team: 'search' } });
    await api.start();
    cleanups.push(() => api.stop());
    const guard = createThrottleGuard<FastifyRequest>({ url: api.url, mode: 'poll', logger: quiet });
    cleanups.push(() => guard.shutdown());
    const app = Fastify();
    app.addHook('preHandler', guard.fastify());
    app.get('/v1/embed/:id', () => ({ ok: true }));
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => app.close());
    assert.equal(await guard.ready(), true);
    const blocked = await fetch(`${base}/v1/embed/1`, { headers: { 'x-costtrace-team': 'search' } });
    assert.equal(blocked.status, 429);
    assert.equal(blocked.headers.get('retry-after'), '30');
    assert.equal((await fetch(`${base}/v1/embed/1`, { headers: { 'x-costtrace-team': 'ads' } })).status, 200);
  });

  it('reopens a stream that went silent and picks up what it missed', async () => {
    const api = new FakeThrottleApi();
    await api.start();
    cleanups.push(() => api.stop());
    const guard = createThrottleGuard({ url: api.url, streamIdleMs: 300, logger: quiet });
    cleanups.push(() => guard.shutdown());
    await until(() => api.streamCount === 1);
    api.engage(acme(), false); // the stream stalls: this engagement is never announced on it
    await until(() => guard.throttles().length === 1, 5_000);
    assert.ok(api.streamOpens >= 2 || api.polls >= 1);
    assert.equal(guard.decide({ tenant: 'acme' }).action, 'reject');
  });

  it('fails open by default when the API is unreachable, closed (503) when configured', async () => {
    const open = createThrottleGuard({ url: 'http://127.0.0.1:1', mode: 'poll', pollIntervalMs: 100, logger: quiet });
    const closed = createThrottleGuard({
      url: 'http://127.0.0.1:1',
      mode: 'poll',
      pollIntervalMs: 100,
      maxStalenessMs: 100,
      failOpen: false,
      logger: quiet,
    });
    cleanups.push(
      () => open.shutdown(),
      () => closed.shutdown(),
    );
    await until(() => open.stats().apiFailures > 0 && closed.stats().apiFailures > 0);
    assert.deepEqual(open.decide({ tenant: 'acme' }), { action: 'allow' });
    const decision = closed.decide({ tenant: 'acme' });
    assert.equal(decision.action, 'reject');
    assert.throws(() => createThrottleGuard({ url: 'aggregator:8080' }), /url is "aggregator:8080"/);
    assert.throws(() => createThrottleGuard({ pollIntervalMs: 1000, maxStalenessMs: 10 }), /maxStalenessMs is 10/);
  });

  it('matches scopes exactly, ignores expired throttles, and prefers the one lifting last', () => {
    const set = new ThrottleSet();
    const t = (id: string, scope: Record<string, string>, until?: number): Throttle => ({
      id,
      budgetId: id,
      scope,
      action: 'reject',
      spend: { amount: '1', currency: 'USD' },
      limit: { amount: '1', currency: 'USD' },
      until,
    });
    set.replace([
      t('a', { tenant: 'acme' }, 1_000),
      t('b', { tenant: 'acme', model: 'gpt-4o' }, 5_000),
      t('c', {}, 100),
    ]);
    assert.equal(set.match({ tenant: 'acme', model: 'gpt-4o' }, 50)?.id, 'b');
    assert.equal(set.match({ tenant: 'acme' }, 500)?.id, 'a');
    assert.equal(set.match({ tenant: 'other' }, 50)?.id, 'c');
    assert.equal(set.match({ tenant: 'other' }, 200), undefined);
    assert.equal(set.match({ tenant: 'acme' }, 2_000), undefined);
  });
});
