// The client against a real HTTP server on loopback: routes and query strings as the aggregator
// expects them, answers typed, every failure one ApiError with a fixed code, and the SSE reader
// on the framing the HTML standard allows (CRLF, comments, multi-line data, split chunks).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { json, startRecordingServer } from './recording-server.js';
import type { RecordingServer, Seen } from './recording-server.js';
import { AggregatorClient, ApiError, parseThrottleDocument, readServerSentEvents } from '../src/index.js';
import type { ServerSentEvent } from '../src/index.js';

const throttle = {
  id: 'evt_1',
  budgetId: 'b1',
  scope: { tenant: 'acme' },
  action: 'reject',
  spend: { amount: '12.5', currency: 'USD' },
  limit: { amount: '10', currency: 'USD' },
  until: null,
  scope_key: 'tenant=acme',
  budget_id: 'b1',
  budget_name: 'B1',
  selector: { tenant: 'acme' },
  spend_usd: '12.5',
  limit_usd: '10',
  percent: 125,
  since: '2026-12-03T00:00:00.000Z',
  expected_until: null,
  breach: 1,
  event_id: 'evt_1',
};

describe('AggregatorClient', () => {
  let rs: RecordingServer;
  let base = '';
  let seen: Seen[] = [];

  before(async () => {
    rs = await startRecordingServer();
    base = rs.base;
    seen = rs.seen;
  });

  after(() => rs.close());

  it('puts a budget as JSON and says whether it was created', async () => {
    const client = new AggregatorClient({ baseUrl: base, headers: { authorization: 'Bearer t' } });
    const budget = { id: 'b1', window: '1h', limit_usd: '5' };
    rs.handler = json(201, { budget });
    const created = await client.putBudget('b1', budget);
    assert.deepEqual(created, { budget, created: true });
    const last = seen.at(-1)!;
    assert.equal(last.method, 'PUT');
    assert.equal(last.url, '/v1/budgets/b1');
    assert.equal(last.type, 'application/json');
    assert.deepEqual(JSON.parse(last.body), budget);
    rs.handler = json(200, { budget });
    assert.equal((await client.putBudget('b1', budget)).created, false);
  });

  it('builds the query strings of status, events and the cost queries', async () => {
    const client = new AggregatorClient({ baseUrl: `${base}/` });
    rs.handler = json(200, { budget: {}, keys: [], key_count: 0, keys_over_cap: 0 });
    await client.budgetStatus('b.1', { limit: 7 });
    assert.equal(seen.at(-1)!.url, '/v1/budgets/b.1/status?limit=7');
    rs.handler = json(200, { events: [] });
    await client.events({ budget: 'b1', type: 'throttle.engaged', limit: 3 });
    assert.equal(seen.at(-1)!.url, '/v1/events?limit=3&budget=b1&type=throttle.engaged');
    rs.handler = json(200, { query: {}, rows: [{ cost: '1.5' }] });
    const rows = await client.costs({
      groupBy: ['route', 'model'],
      since: 100,
      until: 200,
      bucket: '1h',
      limit: 10,
      orderBy: 'cost',
      source: 'spans',
      corrections: true,
      where: [{ dimension: 'tenant', values: ['a&b', 'c'] }],
    });
    assert.deepEqual(rows, [{ cost: '1.5' }]);
    const url = new URL(seen.at(-1)!.url, base);
    assert.equal(url.pathname, '/api/v1/costs');
    assert.equal(url.searchParams.get('group_by'), 'route,model');
    assert.equal(url.searchParams.get('corrections'), 'true');
    assert.deepEqual(url.searchParams.getAll('where'), ['tenant=a&b', 'tenant=c']);
    await client.coverage({ groupBy: ['emitter'], since: '24h' });
    assert.equal(seen.at(-1)!.url, '/api/v1/coverage?since=24h&group_by=emitter');
    await client.topSpans({ since: 1, limit: 5 });
    assert.equal(seen.at(-1)!.url, '/api/v1/top/spans?since=1&limit=5');
  });

  it('turns error answers into ApiError with the status and the server message, whichever envelope', async () => {
    const client = new AggregatorClient({ baseUrl: base });
    rs.handler = json(404, { error: { code: 'NOT_FOUND', message: 'no budget nope', field: 'id' } });
    await assert.rejects(client.getBudget('nope'), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 'HTTP_STATUS');
      assert.equal(err.status, 404);
      assert.equal(err.serverCode, 'NOT_FOUND');
      assert.equal(err.serverMessage, 'no budget nope');
      assert.equal(err.retryable, false);
      return true;
    });
    rs.handler = json(400, { error: { parameter: 'since', message: 'since must be a time' } });
    await assert.rejects(client.costs({ groupBy: [], since: 'x' }), /answered 400: since must be a time/);
    rs.handler = (_req, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('busy');
    await assert.rejects(client.listBudgets(), (err: unknown) => {
      assert.ok(err instanceof ApiError && err.status === 503 && err.retryable && err.body === 'busy');
      return true;
    });
    rs.handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{not json');
    await assert.rejects(
      client.listBudgets(),
      (err: unknown) => err instanceof ApiError && err.code === 'INVALID_RESPONSE',
    );
    rs.handler = json(200, { something: 'else' });
    await assert.rejects(client.throttles(), /has no "throttles"/);
  });

  it('says UNREACHABLE and TIMEOUT apart', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      new AggregatorClient({ baseUrl: `http://127.0.0.1:${port}` }).listBudgets(),
      (err: unknown) => err instanceof ApiError && err.code === 'UNREACHABLE' && err.retryable,
    );
    rs.handler = () => undefined; // never answers
    await assert.rejects(
      new AggregatorClient({ baseUrl: base, timeoutMs: 100 }).listBudgets(),
      (err: unknown) => err instanceof ApiError && err.code === 'TIMEOUT' && /in 100 ms/.test(err.message),
    );
  });

  it('refuses a base URL that is not http(s), a bad timeout and a bad budget id before any request', async () => {
    assert.throws(() => new AggregatorClient({ baseUrl: 'localhost:8080' }), /http:\/\/ or https:\/\//);
    assert.throws(() => new AggregatorClient({ baseUrl: 'not a url' }), /is not a URL/);
    assert.throws(() => new AggregatorClient({ baseUrl: base, timeoutMs: 0 }), /timeoutMs/);
    const client = new AggregatorClient({ baseUrl: base });
    const before = seen.length;
    await assert.rejects(client.getBudget('../admin'), /budget id/);
    assert.equal(seen.length, before);
  });

  it('reads the throttle list and the stream, and validates what a guard uses', async () => {
    const client = new AggregatorClient({ baseUrl: base });
    rs.handler = json(200, { version: 3, throttles: [throttle], generated_at: '2026-12-03T00:00:00.000Z' });
    const list = await client.throttles();
    assert.equal(list.throttles[0]?.scope_key, 'tenant=acme');
    const doc = parseThrottleDocument(list);
    assert.deepEqual(doc.throttles[0]?.spend, { amount: '12.5', currency: 'USD' });
    assert.equal(doc.throttles[0]?.until, undefined);
    assert.throws(
      () => parseThrottleDocument({ throttles: [{ ...throttle, spend: { amount: '1e3', currency: 'USD' } }] }),
      (err: unknown) => err instanceof ApiError && /throttles\[0\]\.spend\.amount/.test(err.message),
    );

    rs.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`retry: 1000\r\nevent: snapshot\r\ndata: ${JSON.stringify({ version: 1, throttles: [] })}\r\n\r\n`);
      res.write(': keep-alive\n\n');
      res.write('event: engaged\ndata: {"a":\ndata: 1}\n');
      setTimeout(() => res.end('\n'), 20);
    };
    const controller = new AbortController();
    const events: ServerSentEvent[] = [];
    for await (const event of await client.throttleStream(controller.signal)) events.push(event);
    assert.deepEqual(events, [
      { event: 'snapshot', data: '{"version":1,"throttles":[]}' },
      { event: 'message', data: undefined },
      { event: 'engaged', data: '{"a":\n1}' },
    ]);
    rs.handler = json(503, { error: { code: 'TOO_MANY_STREAMS', message: 'at most 1 throttle streams' } });
    await assert.rejects(client.throttleStream(controller.signal), /at most 1 throttle streams/);
  });

  it('splits events across chunk boundaries', async () => {
    const text = 'event: a\ndata: 1\n\nevent: b\r\ndata: 2\r\n\r\n';
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    const events: ServerSentEvent[] = [];
    for await (const event of readServerSentEvents(stream)) events.push(event);
    assert.deepEqual(events, [
      { event: 'a', data: '1' },
      { event: 'b', data: '2' },
    ]);
  });
});
