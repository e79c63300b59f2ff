// The preflight calls against a real HTTP server on loopback: method, path, body and query as the
// aggregator's /v1/preflight routes expect them, ids percent-encoded as one path segment, and the
// answers 400 / 403 / 404 / 409 as ApiError HTTP_STATUS with the server's code and message.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startRecordingServer } from './recording-server.js';
import type { RecordingServer, Seen } from './recording-server.js';
import { AggregatorClient, ApiError } from '../src/index.js';
import type { PreflightRecord, PreflightRequest } from '../src/index.js';

const ID = 'pf_01k2m3n4p5q6r7s8t9v0w1x2y3';

const record = (over: Partial<PreflightRecord> = {}): PreflightRecord => ({
  id: ID,
  decision: 'needs_approval',
  status: 'pending',
  job_id: 'ft-42',
  job_kind: 'fine_tuning',
  dimensions: { team: 'ml' },
  amount_usd: '1320',
  currency: 'USD',
  lines: [{ what: 'gpu h100-80gb × 8 × 12 h', amount_usd: '1320', price_ids: ['gpu:h100-80gb:on_demand'] }],
  pricing_version: 'v42',
  reasons: [{ code: 'above_approval_threshold', rule: 'big-jobs', detail: '1320 USD is at or above 1000 USD' }],
  rules: ['big-jobs'],
  budgets: [],
  requested_by: 'ci',
  description: '',
  created_at: '2026-12-03T10:00:00.000Z',
  decided_by: null,
  decided_at: null,
  note: null,
  reservation: null,
  ...over,
});

describe('AggregatorClient preflight', () => {
  let rs: RecordingServer;
  let base = '';
  let seen: Seen[] = [];

  before(async () => {
    rs = await startRecordingServer();
    base = rs.base;
    seen = rs.seen;
  });

  after(() => rs.close());

  it('posts the request as JSON and answers the record, whatever the decision', async () => {
    const client = new AggregatorClient({ baseUrl: base });
    const request: PreflightRequest = {
      job_id: 'ft-42',
      job_kind: 'fine_tuning',
      dimensions: { team: 'ml' },
      plan: { gpus: [{ type: 'h100-80gb', count: 8, hours: '12' }] },
      requested_by: 'ci',
      reservation_hours: 24,
    };
    for (const decision of ['allow', 'needs_approval', 'deny'] as const) {
      rs.handler = json(200, record({ decision }));
      const answer = await client.preflight(request);
      assert.equal(answer.decision, decision);
      const last = seen.at(-1)!;
      assert.equal(last.method, 'POST');
      assert.equal(last.url, '/v1/preflight');
      assert.equal(last.type, 'application/json');
      assert.deepEqual(JSON.parse(last.body), request);
    }
    rs.handler = json(200, { id: ID });
    await assert.rejects(
      client.preflight(request),
      (err: unknown) => err instanceof ApiError && err.code === 'INVALID_RESPONSE' && /"decision"/.test(err.message),
    );
  });

  it('reads one preflight and lists them with the filters as query parameters', async () => {
    const client = new AggregatorClient({ baseUrl: `${base}/` });
    rs.handler = json(200, record());
    assert.equal((await client.getPreflight(ID)).id, ID);
    assert.deepEqual(seen.at(-1), { method: 'GET', url: `/v1/preflight/${ID}`, body: '', type: undefined });

    rs.handler = json(200, { preflights: [record(), record({ id: 'pf_2' })] });
    const list = await client.listPreflights({ status: 'pending', jobId: 'ft 42&x', limit: 100 });
    assert.equal(list.preflights.length, 2);
    const url = new URL(seen.at(-1)!.url, base);
    assert.equal(url.pathname, '/v1/preflight');
    assert.equal(url.searchParams.get('status'), 'pending');
    assert.equal(url.searchParams.get('job_id'), 'ft 42&x');
    assert.equal(url.searchParams.get('limit'), '100');
    await client.listPreflights();
    assert.equal(seen.at(-1)!.url, '/v1/preflight');
  });

  it('approves, rejects and releases with the action as the body', async () => {
    const client = new AggregatorClient({ baseUrl: base });
    const cases = [
      [
        'approve',
        () => client.approvePreflight(ID, { by: 'alice', note: 'ok for Q4' }),
        { by: 'alice', note: 'ok for Q4' },
      ],
      ['reject', () => client.rejectPreflight(ID, { by: 'bob' }), { by: 'bob' }],
      [
        'release',
        () => client.releasePreflight(ID, { by: 'ci', note: 'job cancelled' }),
        { by: 'ci', note: 'job cancelled' },
      ],
    ] as const;
    for (const [verb, call, body] of cases) {
      rs.handler = json(
        200,
        record({ status: verb === 'approve' ? 'reserved' : verb === 'reject' ? 'rejected' : 'released' }),
      );
      await call();
      const last = seen.at(-1)!;
      assert.equal(last.method, 'POST');
      assert.equal(last.url, `/v1/preflight/${ID}/${verb}`);
      assert.equal(last.type, 'application/json');
      assert.deepEqual(JSON.parse(last.body), body);
    }
  });

  it('percent-encodes an id as one path segment and refuses one that would change the path', async () => {
    const client = new AggregatorClient({ baseUrl: base });
    rs.handler = json(200, record());
    await client.getPreflight('pf_a/b c?d#e');
    assert.equal(seen.at(-1)!.url, '/v1/preflight/pf_a%2Fb%20c%3Fd%23e');
    await client.approvePreflight('pf_ü', { by: 'alice' });
    assert.equal(seen.at(-1)!.url, '/v1/preflight/pf_%C3%BC/approve');
    const count = seen.length;
    for (const bad of ['', '.', '..', 'pf_\n1', 'x'.repeat(129)]) {
      await assert.rejects(
        client.getPreflight(bad),
        (err: unknown) => err instanceof TypeError && /preflight id/.test(err.message),
      );
    }
    await assert.rejects(client.releasePreflight('..', { by: 'ci' }), TypeError);
    assert.equal(seen.length, count, 'nothing was sent');
  });

  it('maps 400, 403, 404 and 409 to ApiError with the status and the server message', async () => {
    const client = new AggregatorClient({ baseUrl: base });
    const expect = async (call: () => Promise<unknown>, status: number, code: string, message: string) => {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof ApiError);
        assert.equal(err.code, 'HTTP_STATUS');
        assert.equal(err.status, status);
        assert.equal(err.serverCode, code);
        assert.equal(err.serverMessage, message);
        assert.equal(err.retryable, false);
        assert.ok(err.message.endsWith(`answered ${status}: ${message}`), err.message);
        return true;
      });
    };
    rs.handler = json(400, { error: { code: 'INVALID_REQUEST', message: 'plan.gpus[0].count must be ≥ 1' } });
    await expect(
      () => client.preflight({ plan: { gpus: [{ type: 'h100-80gb', count: 0, hours: '1' }] }, requested_by: 'ci' }),
      400,
      'INVALID_REQUEST',
      'plan.gpus[0].count must be ≥ 1',
    );
    rs.handler = json(403, { error: { code: 'FORBIDDEN', message: 'mallory may not approve rule big-jobs' } });
    await expect(
      () => client.approvePreflight(ID, { by: 'mallory' }),
      403,
      'FORBIDDEN',
      'mallory may not approve rule big-jobs',
    );
    rs.handler = json(404, { error: { code: 'NOT_FOUND', message: `no preflight ${ID}` } });
    await expect(() => client.getPreflight(ID), 404, 'NOT_FOUND', `no preflight ${ID}`);
    rs.handler = json(409, { error: { code: 'CONFLICT', message: 'preflight is reserved, not pending' } });
    await expect(
      () => client.rejectPreflight(ID, { by: 'bob' }),
      409,
      'CONFLICT',
      'preflight is reserved, not pending',
    );
    rs.handler = json(503, { error: { code: 'NOT_READY', message: 'budgets are loading' } });
    await assert.rejects(client.preflight({ plan: { amount_usd: '5' }, requested_by: 'ci' }), (err: unknown) => {
      return err instanceof ApiError && err.status === 503 && err.retryable;
    });
  });
});
