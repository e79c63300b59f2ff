// The service kit's HTTP side on a real server over loopback: routing with parameters, the one
// error envelope for every answer the router makes, mapped domain errors, the JSON body reader
// and the ops endpoints.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { addOpsRoutes, closeHttp, HttpError, listenHttp, readJsonBody, Router, sendJson } from '../src/index.js';

class StoreDown extends Error {}

describe('Router and the error envelope', () => {
  let server: Server;
  let base = '';
  let ready = true;
  const logged: unknown[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) });

  before(async () => {
    const registry = new Registry();
    const router = new Router({
      logger,
      mapError: (err) => (err instanceof StoreDown ? new HttpError(503, 'UNAVAILABLE', 'store down') : undefined),
      maxPathLength: 100,
    });
    router
      .get('/v1/budgets/:id', ({ res, params, url }) =>
        sendJson(res, 200, { id: params.id, limit: url.searchParams.get('limit') }),
      )
      .put('/v1/budgets/:id', async ({ req, res, params }) =>
        sendJson(res, 200, { id: params.id, body: await readJsonBody(req, 64) }),
      )
      .get('/boom', () => {
        throw new Error('secret detail');
      })
      .get('/down', () => Promise.reject(new StoreDown()))
      .get('/bad', () => {
        throw new HttpError(400, 'INVALID_QUERY', 'limit must be an integer', { field: 'limit' });
      });
    addOpsRoutes(router, { registry, readiness: () => ({ ready, checks: { store: ready } }) });
    server = createServer(router.listener());
    base = `http://127.0.0.1:${(await listenHttp(server, '127.0.0.1', 0)).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await closeHttp(server);
  });

  const call = async (method: string, path: string, body?: string, type = 'application/json') => {
    const res = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined ? {} : { body, headers: { 'content-type': type } }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };

  it('routes with path parameters and answers HEAD for GET routes', async () => {
    assert.deepEqual((await call('GET', '/v1/budgets/b-1?limit=3')).body, { id: 'b-1', limit: '3' });
    const head = await call('HEAD', '/v1/budgets/b-1');
    assert.equal(head.status, 200);
    assert.equal(head.body, undefined);
    assert.deepEqual((await call('PUT', '/v1/budgets/b-1', '{"a":1}')).body, { id: 'b-1', body: { a: 1 } });
  });

  it('answers what it refuses in one envelope: 404, 405 with Allow, 414, 400 with the field', async () => {
    assert.deepEqual(await call('GET', '/nope').then((r) => [r.status, r.body]), [
      404,
      { error: { code: 'NOT_FOUND', message: 'no route /nope' } },
    ]);
    const wrong = await call('DELETE', '/v1/budgets/b-1');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET, HEAD, PUT');
    assert.deepEqual(wrong.body, { error: { code: 'METHOD_NOT_ALLOWED', message: 'use GET, HEAD, PUT' } });
    assert.equal((await call('GET', `/${'x'.repeat(200)}`)).status, 414);
    assert.deepEqual((await call('GET', '/bad')).body, {
      error: { code: 'INVALID_QUERY', message: 'limit must be an integer', field: 'limit' },
    });
  });

  it('maps domain errors, and hides unexpected ones behind a logged 500', async () => {
    assert.deepEqual(await call('GET', '/down').then((r) => [r.status, r.body]), [
      503,
      { error: { code: 'UNAVAILABLE', message: 'store down' } },
    ]);
    const boom = await call('GET', '/boom');
    assert.deepEqual([boom.status, boom.body], [500, { error: { code: 'INTERNAL', message: 'internal error' } }]);
    assert.ok(logged.some((l) => JSON.stringify(l).includes('secret detail')));
  });

  it('reads JSON bodies within limits', async () => {
    assert.equal((await call('PUT', '/v1/budgets/b', 'x'.repeat(65))).status, 413);
    assert.equal((await call('PUT', '/v1/budgets/b', '{}', 'text/plain')).status, 415);
    assert.deepEqual((await call('PUT', '/v1/budgets/b', '{nope')).body, {
      error: { code: 'INVALID_JSON', message: 'body is not JSON' },
    });
  });

  it('serves /metrics, /healthz and /readyz the same way for every service', async () => {
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    assert.deepEqual((await call('GET', '/healthz')).body, { status: 'ok' });
    assert.deepEqual(await call('GET', '/readyz').then((r) => [r.status, r.body]), [
      200,
      { ready: true, checks: { store: true } },
    ]);
    ready = false;
    assert.equal((await call('GET', '/readyz')).status, 503);
  });
});
