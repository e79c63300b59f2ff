import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '@costtrace/proto';
import type { SpanProducer } from '../kafka/span-producer.js';

const gunzipAsync = promisify(gunzip);

export interface OtlpHttpIngestOptions {
  readonly host: string;
  readonly port: number;
  /** Largest body accepted, both as sent and after decompression (413 beyond). */
  readonly maxRequestBytes: number;
  readonly producer: SpanProducer;
  readonly logger: Logger;
  /** Readiness beyond "listening", e.g. Kafka reachable. */
  readonly isReady?: () => boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * OTLP/HTTP trace receiver (`POST /v1/traces`, protobuf, optionally gzip). A request is answered
 * 200 only after Kafka acknowledged it; when Kafka is unavailable the client gets a retryable 503
 * with Retry-After, as the OTLP specification asks, so no accepted span is ever dropped.
 */
export class OtlpHttpIngest {
  private readonly server: Server;
  private accepted = 0;

  constructor(private readonly options: OtlpHttpIngestOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        options.logger.error({ err }, 'unexpected error in OTLP/HTTP handler');
        if (!res.headersSent) respondText(res, 500, 'internal error');
      });
    });
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
    this.server.keepAliveTimeout = 5_000;
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  get spansAccepted(): number {
    return this.accepted;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return respondText(res, 200, 'ok');
    if (path === '/readyz') {
      const ready = this.options.isReady?.() ?? true;
      return respondText(res, ready ? 200 : 503, ready ? 'ready' : 'not ready');
    }
    if (path !== '/v1/traces') return respondText(res, 404, 'not found: OTLP traces go to POST /v1/traces');
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return respondText(res, 405, 'use POST');
    }
    try {
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (contentType !== 'application/x-protobuf') {
        throw new HttpError(
          415,
          `unsupported content-type ${JSON.stringify(contentType)}: send application/x-protobuf`,
        );
      }
      const body = await this.readBody(req);
      let request: ExportTraceServiceRequest;
      try {
        request = ExportTraceServiceRequest.decode(body);
      } catch (err) {
        throw new HttpError(400, `body is not an OTLP ExportTraceServiceRequest: ${(err as Error).message}`);
      }
      let spans = 0;
      for (const rs of request.resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;
      if (spans > 0) {
        const service =
          request.resourceSpans[0]?.resource?.attributes.find((kv) => kv.key === 'service.name')?.value?.stringValue ??
          '';
        try {
          await this.options.producer.send(service, body);
        } catch (err) {
          this.options.logger.warn({ err, spans }, 'Kafka did not acknowledge an OTLP batch; answering 503');
          throw new HttpError(503, 'span storage temporarily unavailable, retry later', { 'retry-after': '5' });
        }
        this.accepted += spans;
      }
      const response = Buffer.from(ExportTraceServiceResponse.encode({}).finish());
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': response.length });
      res.end(response);
    } catch (err) {
      if (err instanceof HttpError) {
        for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
        return respondText(res, err.status, err.message);
      }
      throw err;
    }
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const limit = this.options.maxRequestBytes;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      throw new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${limit}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        req.resume();
        throw new HttpError(413, `request body exceeds the limit of ${limit} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const raw = Buffer.concat(chunks);
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'identity') return raw;
    if (encoding !== 'gzip') throw new HttpError(415, `unsupported content-encoding ${encoding}: use gzip or none`);
    try {
      return await gunzipAsync(raw, { maxOutputLength: limit });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new HttpError(413, `decompressed body exceeds the limit of ${limit} bytes`);
      }
      throw new HttpError(400, `body is not valid gzip: ${(err as Error).message}`);
    }
  }
}

function respondText(res: ServerResponse, status: number, message: string): void {
  const body = Buffer.from(`${message}\n`);
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
  res.end(body);
}
