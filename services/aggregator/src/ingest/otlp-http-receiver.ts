import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeHttp, listenHttp, Router } from '@costtrace/service-kit';
import { createGunzip } from 'node:zlib';
import type { Logger } from 'pino';
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '@costtrace/proto';
import type { ExportTracePartialSuccess } from '@costtrace/proto';
import { decodeOtlpJson } from '../otlp/otlp-json.js';
import { IngestError } from './ingest-error.js';
import type { SpanIngest } from './span-ingest.js';

export interface OtlpHttpReceiverOptions {
  readonly host: string;
  readonly port: number;
  /** Largest body accepted as sent (compressed), 413 beyond. */
  readonly maxRequestBytes: number;
  /** Largest body after decompression, 413 beyond. */
  readonly maxDecompressedBytes: number;
  readonly ingest: SpanIngest;
  readonly logger: Logger;
}

type Encoding = 'protobuf' | 'json';

/**
 * OTLP/HTTP trace receiver: `POST /v1/traces` with `application/x-protobuf` or
 * `application/json` (OTLP/JSON: hex ids), optionally gzip. The body is capped as sent and
 * after decompression (413), partial success is reported in `partialSuccess.rejectedSpans`, and
 * 200 is answered only after Kafka acknowledged; Kafka down gives 503 with Retry-After.
 * Routing (404, 405) is the service kit's; errors of the export itself follow OTLP/HTTP, which
 * asks for a google.rpc.Status body (JSON callers get it as JSON, protobuf callers as text).
 */
export class OtlpHttpReceiver {
  private readonly server: Server;

  constructor(private readonly options: OtlpHttpReceiverOptions) {
    const router = new Router({ logger: options.logger }).post('/v1/traces', ({ req, res }) => this.handle(req, res));
    this.server = createServer(router.listener());
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
    this.server.keepAliveTimeout = 5_000;
  }

  listen(): Promise<AddressInfo> {
    return listenHttp(this.server, this.options.host, this.options.port);
  }

  close(): Promise<void> {
    return closeHttp(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const encoding: Encoding | undefined =
      contentType === 'application/x-protobuf' || contentType === 'application/protobuf'
        ? 'protobuf'
        : contentType === 'application/json'
          ? 'json'
          : undefined;
    try {
      if (encoding === undefined) {
        req.resume();
        throw new IngestError(
          'UNSUPPORTED_MEDIA_TYPE',
          `unsupported content-type ${JSON.stringify(contentType)}: send application/x-protobuf or application/json`,
        );
      }
      const body = await this.readBody(req);
      let request: ExportTraceServiceRequest;
      try {
        request = encoding === 'json' ? decodeOtlpJson(body) : ExportTraceServiceRequest.decode(body);
      } catch (err) {
        throw new IngestError(
          'INVALID_REQUEST',
          `body is not an OTLP ExportTraceServiceRequest (${encoding}): ${(err as Error).message}`,
        );
      }
      const partial = await this.options.ingest.accept(request, 'http');
      respond(res, encoding, 200, partial);
    } catch (err) {
      if (!(err instanceof IngestError)) throw err;
      const retry = err.retryAfterSeconds;
      if (retry !== undefined) res.setHeader('retry-after', String(retry));
      respondStatus(res, encoding ?? 'json', err.httpStatus, err.message);
    }
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const limit = this.options.maxRequestBytes;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      throw new IngestError('TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${limit}`);
    }
    const contentEncoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (contentEncoding !== 'identity' && contentEncoding !== 'gzip') {
      req.resume();
      throw new IngestError(
        'UNSUPPORTED_MEDIA_TYPE',
        `unsupported content-encoding ${contentEncoding}: use gzip or none`,
      );
    }
    const raw = await collect(req, limit, `request body exceeds the limit of ${limit} bytes`);
    if (contentEncoding === 'identity') return raw;
    const gunzip = createGunzip();
    const max = this.options.maxDecompressedBytes;
    const decompressed = collect(gunzip, max, `decompressed body exceeds the limit of ${max} bytes`, () =>
      gunzip.destroy(),
    );
    gunzip.end(raw);
    try {
      return await decompressed;
    } catch (err) {
      if (err instanceof IngestError) throw err;
      throw new IngestError('INVALID_REQUEST', `body is not valid gzip: ${(err as Error).message}`);
    }
  }
}

/** Reads a stream up to `limit` bytes; beyond, stops reading and throws TOO_LARGE. */
async function collect(
  stream: AsyncIterable<unknown> & { resume?: () => unknown },
  limit: number,
  message: string,
  abort?: () => void,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) {
      abort?.();
      stream.resume?.();
      throw new IngestError('TOO_LARGE', message);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function respond(
  res: ServerResponse,
  encoding: Encoding,
  status: number,
  partial: ExportTracePartialSuccess | undefined,
): void {
  let body: Buffer;
  if (encoding === 'json') {
    const json = partial
      ? { partialSuccess: { rejectedSpans: partial.rejectedSpans.toString(), errorMessage: partial.errorMessage } }
      : {};
    body = Buffer.from(JSON.stringify(json));
  } else {
    body = Buffer.from(ExportTraceServiceResponse.encode(partial ? { partialSuccess: partial } : {}).finish());
  }
  res.writeHead(status, {
    'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
    'content-length': body.length,
  });
  res.end(body);
}

/** Error responses: OTLP asks for a google.rpc.Status; JSON callers get it as JSON, others as text. */
function respondStatus(res: ServerResponse, encoding: Encoding, status: number, message: string): void {
  if (encoding === 'json') {
    const body = Buffer.from(JSON.stringify({ code: status, message }));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
    return;
  }
  respondText(res, status, message);
}

function respondText(res: ServerResponse, status: number, message: string): void {
  const body = Buffer.from(`${message}\n`);
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
  res.end(body);
}
