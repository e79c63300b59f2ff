import grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { TraceServiceService } from '@costtrace/proto';
import type { TraceServiceServer } from '@costtrace/proto';
import { IngestError } from './ingest-error.js';
import type { SpanIngest } from './span-ingest.js';

export interface OtlpGrpcReceiverOptions {
  readonly host: string;
  readonly port: number;
  /** Largest message after decompression (gzip is negotiated by gRPC itself). */
  readonly maxMessageBytes: number;
  readonly ingest: SpanIngest;
  readonly logger: Logger;
}

/**
 * OTLP/gRPC trace receiver (`opentelemetry.proto.collector.trace.v1.TraceService/Export`).
 * Success only after Kafka acknowledged; Kafka down → UNAVAILABLE (the OTLP exporters retry
 * it); invalid spans → OK with partial_success.rejected_spans.
 */
export class OtlpGrpcReceiver {
  private readonly server: grpc.Server;

  constructor(private readonly options: OtlpGrpcReceiverOptions) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': 1024 * 1024,
    });
    const implementation: TraceServiceServer = {
      export: (call, callback) => {
        options.ingest.accept(call.request, 'grpc').then(
          (partial) => callback(null, partial ? { partialSuccess: partial } : {}),
          (err: unknown) => {
            if (err instanceof IngestError) {
              const metadata = new grpc.Metadata();
              const retry = err.retryAfterSeconds;
              if (retry !== undefined) metadata.set('retry-after', String(retry));
              callback({ code: err.grpcStatus, details: err.message, metadata });
              return;
            }
            options.logger.error({ err }, 'unexpected error in OTLP/gRPC export');
            callback({ code: grpc.status.INTERNAL, details: 'internal error' });
          },
        );
      },
    };
    this.server.addService(TraceServiceService, implementation);
  }

  /** Binds and starts serving; returns the bound port (useful with port 0). */
  async listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(
        `${this.options.host}:${this.options.port}`,
        grpc.ServerCredentials.createInsecure(),
        (err, port) => {
          if (err) reject(err);
          else resolve(port);
        },
      );
    });
  }

  /** Stops accepting calls and waits for the running ones (forcing after `graceMs`). */
  async close(graceMs = 10_000): Promise<void> {
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      force.unref();
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
