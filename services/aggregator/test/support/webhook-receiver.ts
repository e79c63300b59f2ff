// A real HTTP webhook receiver for tests: records every request with its headers and body, and
// answers with a status chosen by the test (per request). Verifies nothing itself.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly receivedAtMs: number;
  readonly status: number;
}

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Decides the answer; default 204. May return [status, headers]. */
  respond: (n: number) => number | [number, Record<string, string>] = () => 204;
  private server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = this.respond(this.received.length);
        const [status, headers] = Array.isArray(answer) ? answer : [answer, {}];
        this.received.push({
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          receivedAtMs: Date.now(),
          status,
        });
        res.writeHead(status, headers).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async stop(): Promise<void> {
    if (this.server === undefined) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** Bodies of acknowledged (2xx) requests, parsed. */
  acknowledged(): { id: string; type: string; data: Record<string, unknown> }[] {
    return this.received
      .filter((r) => r.status >= 200 && r.status < 300)
      .map((r) => JSON.parse(r.body) as { id: string; type: string; data: Record<string, unknown> });
  }
}

/** Polls `check` every 20 ms until it returns true, or throws after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Independent Standard Webhooks verification with node:crypto only. */
export async function independentVerify(headers: IncomingHttpHeaders, body: string, secret: string): Promise<boolean> {
  const { createHmac } = await import('node:crypto');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signed = `${String(headers['webhook-id'])}.${String(headers['webhook-timestamp'])}.${body}`;
  const expected = createHmac('sha256', key).update(signed).digest('base64');
  return String(headers['webhook-signature'])
    .split(' ')
    .some((s) => s === `v1,${expected}`);
}
