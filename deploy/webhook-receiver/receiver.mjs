// A webhook receiver for the docker compose stack: verifies Standard Webhooks signatures
// (webhook-id, webhook-timestamp, webhook-signature = space-separated "v1,<base64 HMAC-SHA256>"
// of "id.timestamp.body" with the base64 key after "whsec_") and logs each verified event as one
// JSON line. Unverifiable requests get 401 and are logged without their body.
//   WEBHOOK_SECRET=whsec_… PORT=9000 node deploy/webhook-receiver/receiver.mjs
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.WEBHOOK_SECRET ?? '';
const port = Number(process.env.PORT ?? 9000);
const host = process.env.HOST ?? '0.0.0.0';
const toleranceSeconds = 300;
const maxBody = 1024 * 1024;
if (!secret.startsWith('whsec_') || secret.length < 12) {
  process.stderr.write('WEBHOOK_SECRET must be set to the destination secret, "whsec_" followed by base64\n');
  process.exit(2);
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT=${process.env.PORT} is invalid: use 0-65535\n`);
  process.exit(2);
}
const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
const log = (record) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);

function verify(headers, body) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string')
    return 'missing webhook headers';
  const sentAt = Number(timestamp);
  if (!Number.isInteger(sentAt) || Math.abs(Date.now() / 1000 - sentAt) > toleranceSeconds)
    return 'timestamp outside tolerance';
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  for (const candidate of signatures.split(' ')) {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || value === undefined) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
  }
  return 'no matching signature';
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200).end('ok\n');
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > maxBody) {
      res.writeHead(413).end();
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.writableEnded) return;
    const body = Buffer.concat(chunks);
    const problem = verify(req.headers, body);
    if (problem !== null) {
      log({ verified: false, reason: problem, id: req.headers['webhook-id'] ?? null });
      res.writeHead(401).end();
      return;
    }
    let event;
    try {
      event = JSON.parse(body.toString('utf8'));
    } catch {
      log({ verified: true, id: req.headers['webhook-id'], error: 'body is not JSON' });
      res.writeHead(400).end();
      return;
    }
    log({ verified: true, id: req.headers['webhook-id'], event });
    res.writeHead(204).end();
  });
});
server.listen(port, host, () => log({ listening: `${host}:${server.address().port}` }));
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close(() => process.exit(0)));
