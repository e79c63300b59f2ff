import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { PricingError } from '@costtrace/core';

/** Checks `authorization: Bearer <token>` against the configured tokens in constant time. */
export class BearerAuth {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** Throws UNAUTHENTICATED unless the metadata carries an accepted token (or auth is off). */
  check(metadata: Metadata): void {
    if (!this.enabled) return;
    const header = metadata.get('authorization')[0];
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null;
    if (match === null) {
      throw new PricingError('UNAUTHENTICATED', 'missing bearer token: send "authorization: Bearer <token>"');
    }
    const given = digest(match[1] ?? '');
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(d, given) || ok;
    if (!ok) throw new PricingError('UNAUTHENTICATED', 'invalid bearer token');
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
