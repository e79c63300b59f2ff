// A real HTTP server on loopback for the client's tests: records every request (method, URL,
// body, content type) and answers with the handler the test sets. Never verifies anything itself.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly body: string;
  readonly type: string | undefined;
}

export interface RecordingServer {
  readonly base: string;
  readonly seen: Seen[];
  handler: Handler;
  close(): Promise<void>;
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const seen: Seen[] = [];
  const state = { handler: ((_req, res) => res.writeHead(500).end()) as Handler };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body, type: req.headers['content-type'] });
      state.handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    get handler() {
      return state.handler;
    },
    set handler(h: Handler) {
      state.handler = h;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Answers `status` with `value` as JSON. */
export function json(status: number, value: unknown): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };
}
