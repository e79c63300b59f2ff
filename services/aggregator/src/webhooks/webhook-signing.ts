import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { WebhookError } from './webhook-error.js';

const SECRET_PREFIX = 'whsec_';

/** Decodes a Standard Webhooks secret (`whsec_` + base64 of 24-64 random bytes) to its key bytes. */
export function decodeSecret(secret: string): Buffer {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw new WebhookError(
      'INVALID_SECRET',
      'a webhook secret is "whsec_" followed by base64; generate one with `openssl rand -base64 32`',
    );
  }
  const key = Buffer.from(b64, 'base64');
  if (key.length < 24 || key.length > 64) {
    throw new WebhookError('INVALID_SECRET', `a webhook secret must decode to 24-64 bytes, got ${key.length}`);
  }
  return key;
}

export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/**
 * The `webhook-signature` header of Standard Webhooks: `v1,<base64 HMAC-SHA256(key, id.timestamp.body)>`
 * for each active secret, space-separated, so receivers keep verifying during a secret rotation.
 */
export function signatureHeader(
  id: string,
  timestampSeconds: number,
  body: string,
  secrets: readonly string[],
): string {
  const content = `${id}.${timestampSeconds}.${body}`;
  return secrets.map((s) => `v1,${createHmac('sha256', decodeSecret(s)).update(content).digest('base64')}`).join(' ');
}

/**
 * Receiver-side check (for tests and for users' reference): true when one of the `v1,` signatures
 * matches `secret` and the timestamp is within `toleranceSeconds` of `nowSeconds`.
 */
export function verifySignature(
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = createHmac('sha256', decodeSecret(secret)).update(`${headers.id}.${ts}.${body}`).digest();
  for (const part of headers.signature.split(' ')) {
    const [version, value] = part.split(',', 2);
    if (version !== 'v1' || value === undefined) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
  }
  return false;
}
