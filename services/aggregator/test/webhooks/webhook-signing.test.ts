import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateSecret, signatureHeader, verifySignature } from '../../src/index.js';

describe('Standard Webhooks signing', () => {
  // Test vector of the Standard Webhooks specification (libraries' shared test).
  it('matches the specification test vector', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const ts = 1614265330;
    const body = '{"test": 2432232314}';
    assert.equal(signatureHeader(id, ts, body, [secret]), 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs with every secret during a rotation, verified independently', () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    const header = signatureHeader('evt_1', 1700000000, '{"a":1}', [oldSecret, newSecret]);
    const parts = header.split(' ');
    assert.equal(parts.length, 2);
    for (const [i, secret] of [oldSecret, newSecret].entries()) {
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      const expected = createHmac('sha256', key).update('evt_1.1700000000.{"a":1}').digest('base64');
      assert.equal(parts[i], `v1,${expected}`);
      assert.equal(
        verifySignature({ id: 'evt_1', timestamp: '1700000000', signature: header }, '{"a":1}', secret, 1700000100),
        true,
      );
    }
    assert.equal(
      verifySignature({ id: 'evt_1', timestamp: '1700000000', signature: header }, '{"a":2}', oldSecret, 1700000000),
      false,
    );
    assert.equal(
      verifySignature({ id: 'evt_1', timestamp: '1700000000', signature: header }, '{"a":1}', oldSecret, 1700009999),
      false,
      'stale',
    );
  });
});
