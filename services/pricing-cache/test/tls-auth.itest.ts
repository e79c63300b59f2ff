import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { ListPricesRequest, PricingServiceClient } from '@costtrace/proto';
import { makeTestCerts } from './support/test-certs.js';
import type { TestCerts } from './support/test-certs.js';
import { call, ControlledSource, rejectsWith, removeDir, startTestCache } from './support/test-cache.js';
import type { TestCache } from './support/test-cache.js';

const TOKEN = 'test-token-0123456789abcdef';
const list = ListPricesRequest.fromJSON({});

function bearer(token: string): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
}

function source(): ControlledSource {
  const s = new ControlledSource();
  s.setRecords([
    {
      provider: 'reference',
      resourceType: 'gpu',
      sku: 't4',
      kind: 'gpu_time',
      unit: 'gpu_hour',
      amount: '0.35',
      effectiveFrom: '2025-01-01',
      source: 'test',
    },
  ]);
  return s;
}

describe('TLS, mTLS and bearer-token auth', { timeout: 60_000 }, () => {
  let certs: TestCerts;
  let t: TestCache;
  const clients: PricingServiceClient[] = [];
  const client = (creds: ReturnType<typeof credentials.createInsecure>) => {
    const c = new PricingServiceClient(t.address, creds, { 'grpc.ssl_target_name_override': 'localhost' });
    clients.push(c);
    return c;
  };

  before(async () => {
    certs = makeTestCerts();
    t = await startTestCache(
      [source()],
      {
        tlsCertFile: certs.serverCert,
        tlsKeyFile: certs.serverKey,
        tlsClientCaFile: certs.caCert,
        authTokens: [TOKEN],
      },
      credentials.createSsl(certs.read(certs.caCert), certs.read(certs.clientKey), certs.read(certs.clientCert)),
    );
  });
  after(async () => {
    for (const c of clients) c.close();
    await t.close();
    removeDir(t.stateDir);
    removeDir(certs.dir);
  });

  it('accepts a client with a CA-signed certificate and a valid token', async () => {
    const res = await call(t.client, 'listPrices', list, bearer(TOKEN));
    assert.equal(res.prices.length, 1);
  });

  it('rejects a missing or wrong token with UNAUTHENTICATED, on unary and streaming calls', async () => {
    const missing = await rejectsWith(call(t.client, 'listPrices', list));
    assert.equal(missing.code, status.UNAUTHENTICATED);
    const wrong = await rejectsWith(call(t.client, 'listPrices', list, bearer('not-the-token-at-all-xx')));
    assert.equal(wrong.code, status.UNAUTHENTICATED);
    const code = await new Promise<number>((resolve) => {
      const stream = t.client.watchPrices({ fromVersion: 0n });
      stream.on('data', () => resolve(-1));
      stream.on('error', (err: { code: number }) => resolve(err.code));
    });
    assert.equal(code, status.UNAUTHENTICATED);
  });

  it('rejects a plaintext client and a TLS client without a client certificate', async () => {
    const plaintext = await rejectsWith(call(client(credentials.createInsecure()), 'listPrices', list, bearer(TOKEN)));
    assert.equal(plaintext.code, status.UNAVAILABLE);
    const noCert = await rejectsWith(
      call(client(credentials.createSsl(certs.read(certs.caCert))), 'listPrices', list, bearer(TOKEN)),
    );
    assert.equal(noCert.code, status.UNAVAILABLE);
  });
});
