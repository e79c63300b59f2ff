// The guard's preflight against an in-test aggregator on loopback answering POST /v1/preflight:
// the decision and record as answered, requirePreflight's errors carrying the record, the
// failOpen choice when the aggregator is down, slow or busy (degraded, counted, one warning),
// and the request itself made with tracing suppressed.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { context, propagation, trace } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { node } from '@opentelemetry/sdk-node';
import { CostSdkError, ThrottleGuard } from '../src/index.js';
import type { PreflightRecord, PreflightRequest } from '../src/index.js';

const record = (decision: PreflightRecord['decision'], amount: string): PreflightRecord => ({
  id: 'pf_01k2m3n4p5q6r7s8t9v0w1x2y3',
  decision,
  status: decision === 'allow' ? 'reserved' : decision === 'deny' ? 'denied' : 'pending',
  job_id: 'batch-7',
  job_kind: 'batch_inference',
  dimensions: { team: 'ml' },
  amount_usd: amount,
  currency: 'USD',
  lines: [{ what: 'openai/gpt-4o', amount_usd: amount, price_ids: ['openai:gpt-4o:input'] }],
  pricing_version: 'v42',
  reasons:
    decision === 'allow'
      ? []
      : [{ code: decision === 'deny' ? 'over_budget' : 'above_approval_threshold', detail: `${amount} USD is a lot` }],
  rules: ['batches'],
  budgets: [],
  requested_by: 'nightly-batch',
  description: '',
  created_at: '2026-12-03T10:00:00.000Z',
  decided_by: null,
  decided_at: null,
  note: null,
  reservation:
    decision === 'allow'
      ? { amount_usd: amount, settled_usd: '0', outstanding_usd: amount, expires_at: '2026-12-06T10:00:00.000Z' }
      : null,
});

const request = (amount: string): PreflightRequest => ({
  job_id: 'batch-7',
  job_kind: 'batch_inference',
  dimensions: { team: 'ml' },
  plan: { amount_usd: amount },
  requested_by: 'nightly-batch',
});

/** Captures the guard's log lines. */
function logger() {
  const lines = { warn: [] as string[], info: [] as string[] };
  return {
    lines,
    warn: (m: string) => lines.warn.push(m),
    info: (m: string) => lines.info.push(m),
    error() {},
    debug() {},
    verbose() {},
  };
}

async function closedPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe('throttle guard preflight', () => {
  let server: Server;
  let base = '';
  const seen: { method: string; url: string; body: unknown; authorization: string | undefined }[] = [];
  /**
   * By amount: under 100 allow, under 1000 needs approval, else deny; "400" and "503" answer
   * errors, "html" a page that is not JSON, "hang" nothing.
   */
  const answer = (req: IncomingMessage, res: ServerResponse, body: PreflightRequest): void => {
    const amount = body.plan.amount_usd ?? '0';
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    if (amount === 'hang') return;
    if (amount === '400')
      return json(400, { error: { code: 'INVALID_REQUEST', message: 'plan.amount_usd: 400 is odd' } });
    if (amount === '503') return json(503, { error: { code: 'NOT_READY', message: 'budgets are loading' } });
    if (amount === 'html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy</html>');
      return;
    }
    const usd = Number(amount);
    json(200, record(usd < 100 ? 'allow' : usd < 1000 ? 'needs_approval' : 'deny', amount));
  };
  const provider = new node.NodeTracerProvider();
  const suppressedFetches: boolean[] = [];
  const realFetch = globalThis.fetch;

  before(async () => {
    // A real tracer provider and context manager, and a fetch that records whether tracing was
    // suppressed where the guard called it (an instrumented fetch would then create no span).
    provider.register();
    globalThis.fetch = (input, init) => {
      suppressedFetches.push(isTracingSuppressed(context.active()));
      return realFetch(input, init);
    };
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        const body = JSON.parse(text) as PreflightRequest;
        seen.push({ method: req.method ?? '', url: req.url ?? '', body, authorization: req.headers.authorization });
        answer(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    globalThis.fetch = realFetch;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  beforeEach(() => {
    seen.length = 0;
    suppressedFetches.length = 0;
  });

  it('answers the decision and the record: allow, needs_approval, deny; with tracing suppressed', async () => {
    const guard = new ThrottleGuard({ url: base, headers: { authorization: 'Bearer t' }, logger: logger() });
    const tracer = trace.getTracer('app');
    const allowed = await tracer.startActiveSpan('batch', async (span) => {
      try {
        return await guard.preflight(request('42'));
      } finally {
        span.end();
      }
    });
    assert.equal(allowed.decision, 'allow');
    assert.equal(allowed.degraded, false);
    assert.equal(allowed.record?.status, 'reserved');
    assert.deepEqual(seen[0], { method: 'POST', url: '/v1/preflight', body: request('42'), authorization: 'Bearer t' });
    assert.deepEqual(suppressedFetches, [true]);

    const pending = await guard.preflight(request('500'));
    assert.equal(pending.decision, 'needs_approval');
    assert.equal(pending.record?.status, 'pending');
    const denied = await guard.preflight(request('5000'));
    assert.deepEqual({ decision: denied.decision, degraded: denied.degraded }, { decision: 'deny', degraded: false });
    assert.equal(guard.stats().preflightDegraded, 0);
  });

  it('requirePreflight resolves the record when allowed, rejects with the record otherwise', async () => {
    const guard = new ThrottleGuard({ url: base, logger: logger() });
    const reserved = await guard.requirePreflight(request('42'));
    assert.equal(reserved?.reservation?.amount_usd, '42');
    await assert.rejects(guard.requirePreflight(request('500')), (err: unknown) => {
      assert.ok(err instanceof CostSdkError);
      assert.equal(err.code, 'PREFLIGHT_NEEDS_APPROVAL');
      assert.equal(err.preflight?.status, 'pending');
      assert.match(err.message, /pf_\w+ \(500 USD\) needs approval: 500 USD is a lot/);
      return true;
    });
    await assert.rejects(guard.requirePreflight(request('5000')), (err: unknown) => {
      assert.ok(err instanceof CostSdkError);
      assert.equal(err.code, 'PREFLIGHT_DENIED');
      assert.equal(err.preflight?.reasons[0]?.code, 'over_budget');
      return true;
    });
  });

  it('fails open when the aggregator is down: allow, degraded, counted, one warning', async () => {
    const log = logger();
    const guard = new ThrottleGuard({ url: await closedPort(), logger: log });
    const first = await guard.preflight(request('5000'));
    assert.equal(first.decision, 'allow');
    assert.equal(first.degraded, true);
    assert.equal(first.record, undefined);
    assert.ok(first.degraded && /is not reachable/.test(first.cause.message));
    assert.equal(await guard.requirePreflight(request('5000')), undefined);
    assert.equal(guard.stats().preflightDegraded, 2);
    assert.equal(log.lines.warn.length, 1);
    assert.match(log.lines.warn[0]!, /preflight could not ask the aggregator .* allowing \(preflightFailOpen\)/);
  });

  it('fails closed when configured: deny, degraded; requirePreflight rejects PREFLIGHT_UNAVAILABLE', async () => {
    const log = logger();
    const guard = new ThrottleGuard({ url: await closedPort(), failOpen: false, logger: log });
    const outcome = await guard.preflight(request('1'));
    assert.deepEqual([outcome.decision, outcome.degraded, outcome.record], ['deny', true, undefined]);
    await assert.rejects(
      guard.requirePreflight(request('1')),
      (err: unknown) =>
        err instanceof CostSdkError && err.code === 'PREFLIGHT_UNAVAILABLE' && err.preflight === undefined,
    );
    assert.equal(guard.stats().preflightDegraded, 2);
    assert.match(log.lines.warn.join('\n'), /denying \(preflightFailOpen: false\)/);
    // A guard without a url cannot ask either.
    const noUrl = new ThrottleGuard({ failOpen: false, logger: logger(), env: {} });
    assert.equal((await noUrl.preflight(request('1'))).decision, 'deny');
  });

  it('fails preflight closed on its own while requests still fail open (preflightFailOpen)', async () => {
    const guard = new ThrottleGuard({ url: await closedPort(), preflightFailOpen: false, logger: logger() });
    assert.equal((await guard.preflight(request('1'))).decision, 'deny');
    const open = new ThrottleGuard({
      url: await closedPort(),
      failOpen: false,
      preflightFailOpen: true,
      logger: logger(),
    });
    assert.equal((await open.preflight(request('1'))).decision, 'allow');
  });

  it('times out after preflightTimeoutMs (or the call timeoutMs) and follows failOpen', async () => {
    const log = logger();
    const guard = new ThrottleGuard({ url: base, preflightTimeoutMs: 150, logger: log });
    let started = Date.now();
    const slow = await guard.preflight(request('hang'));
    assert.ok(Date.now() - started < 2_000);
    assert.equal(slow.decision, 'allow');
    assert.ok(slow.degraded && /no answer .* in 150 ms/.test(slow.cause.message));
    started = Date.now();
    const closed = new ThrottleGuard({ url: base, failOpen: false, logger: logger() });
    const outcome = await closed.preflight(request('hang'), { timeoutMs: 100 });
    assert.ok(Date.now() - started < 2_000);
    assert.ok(outcome.degraded && /in 100 ms/.test(outcome.cause.message));
    assert.equal(outcome.decision, 'deny');

    // The aggregator answering again is logged once; busy (503) and a non-JSON answer degrade too.
    assert.equal((await guard.preflight(request('1'))).degraded, false);
    assert.match(log.lines.info.join('\n'), /preflight API reachable again/);
    assert.equal((await guard.preflight(request('503'))).degraded, true);
    assert.equal((await guard.preflight(request('html'))).degraded, true);
    assert.equal(guard.stats().preflightDegraded, 3);
    assert.equal(log.lines.warn.length, 2, 'one warning per outage');
  });

  it('rejects a request the aggregator refuses (400) and a cancelled call instead of degrading', async () => {
    const guard = new ThrottleGuard({ url: base, logger: logger() });
    await assert.rejects(guard.preflight(request('400')), (err: unknown) => {
      assert.ok(err instanceof CostSdkError);
      assert.equal(err.code, 'PREFLIGHT_API');
      assert.match(err.message, /answered 400: plan.amount_usd: 400 is odd/);
      return true;
    });
    const controller = new AbortController();
    const call = guard.preflight(request('hang'), { signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await assert.rejects(call, /shutting down/);
    assert.equal(guard.stats().preflightDegraded, 0);
    assert.throws(() => new ThrottleGuard({ url: base, preflightTimeoutMs: 0 }), /preflightTimeoutMs is 0/);
  });
});
