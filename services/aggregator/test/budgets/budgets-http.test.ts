// The budgets HTTP API on a real server (in-memory store, no Kafka): CRUD with field-naming
// validation, size limits, throttles as JSON and SSE, the delivery log, and the CLI commands
// against the same server.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { generateSecret } from '../../src/index.js';
import { BudgetRegistry } from '../../src/budgets/budget-registry.js';
import { MemoryBudgetStore } from '../../src/budgets/budget-store.js';
import { BudgetsApi, budgetsErrorMapper } from '../../src/budgets/budgets-http.js';
import { ThrottleBoard } from '../../src/budgets/throttle-board.js';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { WebhookOutbox } from '../../src/webhooks/webhook-outbox.js';
import { WebhookSender } from '../../src/webhooks/webhook-sender.js';
import type { ActiveThrottle } from '../../src/budgets/throttle.js';
import { Router } from '@costtrace/service-kit';
import { AggregatorClient } from '@costtrace/client';
import { parseBudgetArgs, runBudgetCommand } from '@costtrace/cli';

const logger = pino({ level: 'silent' });
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely typed JSON read back from the API
type Json = any;

describe('budgets HTTP API and CLI', () => {
  let dir = '';
  let server: Server;
  let base = '';
  let api: BudgetsApi;
  let registry: BudgetRegistry;
  let outbox: WebhookOutbox;
  let dispatcher: WebhookDispatcher;
  const board = new ThrottleBoard();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'costtrace-http-'));
    const file = join(dir, 'budgets.yaml');
    await writeFile(
      file,
      `webhooks:
  - id: ops
    url: https://hooks.example.com/costtrace
    secrets: ["${generateSecret()}"]
budgets:
  - id: from-file
    scope: { service: chat-api }
    window: 1h
    limit_usd: 25
    action: reject
    webhooks: [ops]
`,
    );
    registry = new BudgetRegistry({ store: new MemoryBudgetStore(), logger, file });
    await registry.start();
    outbox = await WebhookOutbox.open({ directory: dir, logger });
    dispatcher = new WebhookDispatcher({
      outbox,
      sender: new WebhookSender(),
      endpoints: () => registry.endpointMap(),
      logger,
    });
    api = new BudgetsApi({
      registry,
      board,
      outbox,
      dispatcher,
      status: () => Promise.resolve({ keys: [], keysOverCap: 0 }),
      logger,
      maxBodyBytes: 4096,
      heartbeatMs: 50,
    });
    const router = new Router({ logger, mapError: budgetsErrorMapper });
    BudgetsApi.addRoutes(router, () => api);
    server = createServer(router.listener());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    api.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await registry.stop();
    await outbox.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, body?: unknown, type = 'application/json') => {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': type },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as Record<string, Json>) };
  };

  it('lists the budgets file and does CRUD with validation', async () => {
    let r = await call('GET', '/v1/budgets');
    assert.deepEqual(
      (r.body!.budgets as { id: string }[]).map((b) => b.id),
      ['from-file'],
    );
    r = await call('POST', '/v1/budgets', {
      id: 'per-tenant',
      per: ['tenant'],
      window: 'day',
      time_zone: 'Europe/Berlin',
      limit_usd: '50',
      webhooks: ['ops'],
    });
    assert.equal(r.status, 201);
    assert.equal(r.body!.budget.limit_usd, '50');
    r = await call('POST', '/v1/budgets', { id: 'per-tenant', window: '1h', limit_usd: '1' });
    assert.equal(r.status, 409);
    r = await call('PUT', '/v1/budgets/per-tenant', { per: ['tenant'], window: 'week', limit_usd: '300' });
    assert.equal(r.status, 200);
    assert.equal(
      registry.catalog().get('per-tenant')?.budget.limit.toDecimalString(),
      '300',
      'in force without restart',
    );
    r = await call('PUT', '/v1/budgets/bad', { window: '1h', limit_usd: 'ten' });
    assert.equal(r.status, 400);
    assert.equal(r.body!.error.field, 'budget.limit_usd');
    r = await call('PUT', '/v1/budgets/bad', { window: '1h', limit_usd: '1', webhooks: ['nope'] });
    assert.equal(r.body!.error.field, 'budget.webhooks[0]');
    r = await call('PUT', '/v1/budgets/big', { window: '1h', limit_usd: '1', name: 'x'.repeat(5000) });
    assert.equal(r.status, 413);
    r = await call('PUT', '/v1/budgets/x', 'id: x', 'text/yaml');
    assert.equal(r.status, 415);
    r = await call('GET', '/v1/budgets/per-tenant/status');
    assert.equal(r.status, 200);
    assert.equal(r.body!.key_count, 0);
    r = await call('DELETE', '/v1/budgets/per-tenant');
    assert.equal(r.status, 204);
    r = await call('GET', '/v1/budgets/per-tenant');
    assert.equal(r.status, 404);
    r = await call('GET', '/v1/budgets/..%2F..');
    assert.equal(r.status, 400);
    r = await call('GET', '/v1/webhooks/endpoints');
    assert.equal(r.body!.endpoints[0].id, 'ops');
    assert.equal(r.body!.endpoints[0].secrets, 1, 'secrets are counted, never shown');
    assert.equal((await fetch(`${base}/other`)).status, 404, 'other paths are left to the host server');
  });

  it('serves throttles as JSON and as a Server-Sent Events stream', async () => {
    const throttle: ActiveThrottle = {
      id: 'evt_x',
      budgetId: 'from-file',
      scope: { service: 'chat-api' },
      spend: { amount: '25.5', currency: 'USD' },
      limit: { amount: '25', currency: 'USD' },
      until: null,
      scope_key: 'from-file',
      budget_id: 'from-file',
      budget_name: 'from-file',
      selector: { service: 'chat-api' },
      action: 'reject',
      spend_usd: '25.5',
      limit_usd: '25',
      percent: 102,
      since: new Date().toISOString(),
      expected_until: new Date(Date.now() + 60_000).toISOString(),
      breach: 1,
      event_id: 'evt_x',
    };
    const controller = new AbortController();
    const res = await fetch(`${base}/v1/throttles/stream`, { signal: controller.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) text += decoder.decode((await reader.read()).value as Uint8Array);
    };
    await readUntil('event: snapshot');
    board.apply({ type: 'engaged', throttle, version: board.nextVersion() });
    await readUntil('event: engaged');
    const r = await call('GET', '/v1/throttles');
    assert.deepEqual(r.body!.throttles, [throttle]);
    board.apply({
      type: 'released',
      id: 'evt_x',
      scope_key: 'from-file',
      budget_id: 'from-file',
      version: board.nextVersion(),
    });
    await readUntil('event: released');
    await readUntil(': keep-alive');
    controller.abort();
    assert.deepEqual((await call('GET', '/v1/throttles')).body!.throttles, []);
    const engagedData = /event: engaged\ndata: (.*)\n/.exec(text)![1]!;
    assert.deepEqual(JSON.parse(engagedData), throttle);
  });

  it('answers the delivery log and replay', async () => {
    let r = await call('GET', '/v1/webhooks/deliveries?limit=5');
    assert.deepEqual(r.body!.deliveries, []);
    r = await call('GET', '/v1/webhooks/deliveries?limit=5000');
    assert.equal(r.status, 400);
    r = await call('POST', '/v1/webhooks/deliveries/evt_unknown/replay');
    assert.equal(r.status, 404);
    r = await call('GET', '/v1/webhooks/dead-letters');
    assert.deepEqual(r.body!.dead_letters, []);
  });

  it('runs the CLI commands', async () => {
    const api = new AggregatorClient({ baseUrl: base });
    let out = await runBudgetCommand(
      [
        'budget',
        'set',
        '--id',
        'cli',
        '--window',
        '1h',
        '--limit',
        '5',
        '--scope',
        'route=/v1/*',
        '--per',
        'tenant',
        '--action',
        'degrade',
        '--thresholds',
        '50,100',
      ],
      api,
    );
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(out.stdout, 'budget cli created\n');
    out = await runBudgetCommand(['budget', 'list'], api);
    assert.match(out.stdout, /^ID\s+WINDOW\s+LIMIT_USD/);
    assert.match(out.stdout, /cli\s+1h\s+5\s+degrade\s+tenant\s+route=\/v1\/\*/);
    out = await runBudgetCommand(['budget', 'get', 'cli'], api);
    assert.deepEqual(JSON.parse(out.stdout).thresholds, [50, 100]);
    out = await runBudgetCommand(['budget', 'status', 'cli'], api);
    assert.match(out.stdout, /0 key\(s\)/);
    out = await runBudgetCommand(['budget', 'alerts', '--limit', '5'], api);
    assert.equal(out.exitCode, 0);
    out = await runBudgetCommand(['throttles'], api);
    assert.equal(out.stdout, 'no active throttles\n');
    out = await runBudgetCommand(['budget', 'delete', 'cli'], api);
    assert.equal(out.exitCode, 0);
    out = await runBudgetCommand(['budget', 'get', 'cli'], api);
    assert.equal(out.exitCode, 3);
    out = await runBudgetCommand(['budget', 'set', '--id', 'x', '--window', '1h', '--limit', 'abc'], api);
    assert.equal(out.exitCode, 1);
    assert.match(out.stderr, /limit_usd/);
    assert.equal(parseBudgetArgs(['budget', 'frobnicate']).ok, false);
    assert.equal(parseBudgetArgs(['budget', 'status', 'x', '--limit', '0']).ok, false);
    assert.equal(parseBudgetArgs(['budget', 'list', '--colour', 'red']).ok, false);
    const parsed = parseBudgetArgs(['budget', 'list', '--url', 'http://h:1', '--json']);
    assert.ok(parsed.ok && parsed.args.json && parsed.url === 'http://h:1');
  });
});
