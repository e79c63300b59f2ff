import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { BlockList } from 'node:net';
import { guardedLookup, refusalReason, systemResolver } from './ssrf-guard.js';
import type { Resolver } from './ssrf-guard.js';

export interface SendResult {
  /** HTTP status, or null when no response came. */
  readonly status: number | null;
  /** Retry-After of the response in ms (seconds or HTTP date), when given. */
  readonly retryAfterMs: number | null;
  readonly error: string | null;
  /** The destination was refused by the SSRF policy (no connection was made). */
  readonly refused: boolean;
  readonly durationMs: number;
}

export interface SenderOptions {
  /** Addresses allowed despite being loopback/private/link-local (from config). */
  readonly allow?: BlockList | undefined;
  /** Name resolution; the system resolver by default, injectable in tests. */
  readonly resolver?: Resolver | undefined;
  /** Largest response body read (then discarded). */
  readonly maxResponseBytes?: number | undefined;
}

/** Parses Retry-After: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined || value === '') return null;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * POSTs one webhook. Never follows redirects (node:http does not), resolves names through the
 * SSRF guard at connect time (IP literals are checked before connecting, since they skip DNS),
 * bounds the whole exchange by `timeoutMs`, and reads at most a small response body.
 */
export class WebhookSender {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly options: SenderOptions = {}) {
    const lookup = guardedLookup(options.resolver ?? systemResolver, options.allow);
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 32, lookup });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 32, lookup });
  }

  send(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<SendResult> {
    const started = Date.now();
    const done = (r: Omit<SendResult, 'durationMs'>): SendResult => ({ ...r, durationMs: Date.now() - started });
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve(done({ status: null, retryAfterMs: null, error: 'invalid URL', refused: true }));
    }
    const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
    if (isIP(host) !== 0) {
      const reason = refusalReason(host, this.options.allow);
      if (reason !== undefined) {
        return Promise.resolve(done({ status: null, retryAfterMs: null, error: `refused: ${reason}`, refused: true }));
      }
    }
    const client = target.protocol === 'https:' ? https : http;
    const agent = target.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
    const maxBytes = this.options.maxResponseBytes ?? 64 * 1024;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (r: Omit<SendResult, 'durationMs'>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(done(r));
      };
      const req = client.request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'costtrace-webhooks/1',
          },
        },
        (res) => {
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > maxBytes) res.destroy();
          });
          const complete = (): void =>
            finish({
              status: res.statusCode ?? null,
              retryAfterMs: parseRetryAfter(res.headers['retry-after'], Date.now()),
              error: null,
              refused: false,
            });
          res.on('end', complete);
          res.on('close', complete);
          res.on('error', complete);
        },
      );
      const timer = setTimeout(() => {
        req.destroy(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        finish({ status: null, retryAfterMs: null, error: err.message, refused: err.code === 'ESSRF' });
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
