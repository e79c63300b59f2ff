import { decodeSecret } from './webhook-signing.js';
import { WebhookError } from './webhook-error.js';
import { WEBHOOK_EVENT_TYPES } from './webhook-event.js';
import type { WebhookEventType } from './webhook-event.js';

/** A webhook destination. Secrets never leave the process (not logged, not returned by the API). */
export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  /** Active secrets; during a rotation both old and new sign every message. */
  readonly secrets: readonly string[];
  /** Event types sent to this endpoint; empty = all. */
  readonly events: readonly WebhookEventType[];
  readonly timeoutMs: number;
}

export interface WebhookEndpointDocument {
  id: string;
  url: string;
  secret?: string;
  secrets?: string[];
  events?: string[];
  timeout_ms?: number;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Validates an endpoint from a file or request; errors name the field. */
export function parseWebhookEndpoint(input: unknown, field = 'webhook'): WebhookEndpoint {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new WebhookError('INVALID_ENDPOINT', `${field}: must be an object { id, url, secrets }`);
  }
  const doc = input as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (!['id', 'url', 'secret', 'secrets', 'events', 'timeout_ms'].includes(key)) {
      throw new WebhookError(
        'INVALID_ENDPOINT',
        `${field}.${key}: unknown field; use id, url, secrets, events, timeout_ms`,
      );
    }
  }
  if (typeof doc.id !== 'string' || !ID.test(doc.id)) {
    throw new WebhookError('INVALID_ENDPOINT', `${field}.id: required, 1-64 letters, digits, ".", "_" or "-"`);
  }
  let url: URL;
  try {
    url = new URL(String(doc.url));
  } catch (cause) {
    throw new WebhookError('INVALID_ENDPOINT', `${field}.url: not a URL`, { cause });
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.username !== '' ||
    url.password !== '' ||
    String(doc.url).length > 2048
  ) {
    throw new WebhookError(
      'INVALID_ENDPOINT',
      `${field}.url: must be an http(s) URL without credentials, at most 2048 characters`,
    );
  }
  const secrets = doc.secrets ?? (doc.secret === undefined ? undefined : [doc.secret]);
  if (
    !Array.isArray(secrets) ||
    secrets.length === 0 ||
    secrets.length > 3 ||
    !secrets.every((s) => typeof s === 'string')
  ) {
    throw new WebhookError(
      'INVALID_ENDPOINT',
      `${field}.secrets: 1-3 secrets "whsec_<base64>" (two during a rotation)`,
    );
  }
  secrets.forEach((s: string, i) => {
    try {
      decodeSecret(s);
    } catch (cause) {
      throw new WebhookError('INVALID_SECRET', `${field}.secrets[${i}]: ${(cause as Error).message}`, { cause });
    }
  });
  const events = doc.events ?? [];
  if (!Array.isArray(events) || !events.every((e) => (WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(e))) {
    throw new WebhookError('INVALID_ENDPOINT', `${field}.events: a list of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  }
  const timeoutMs = doc.timeout_ms ?? 10_000;
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) {
    throw new WebhookError('INVALID_ENDPOINT', `${field}.timeout_ms: an integer from 100 to 60000`);
  }
  return {
    id: doc.id,
    url: url.toString(),
    secrets: secrets,
    events: events as WebhookEventType[],
    timeoutMs,
  };
}

/** The endpoint as the API shows it: no secrets, only how many there are. */
export function publicEndpoint(endpoint: WebhookEndpoint, disabled: { disabled: boolean; reason: string | null }) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: [...endpoint.events],
    timeout_ms: endpoint.timeoutMs,
    secrets: endpoint.secrets.length,
    disabled: disabled.disabled,
    disabled_reason: disabled.reason,
  };
}

export function endpointToDocument(endpoint: WebhookEndpoint): WebhookEndpointDocument {
  return {
    id: endpoint.id,
    url: endpoint.url,
    secrets: [...endpoint.secrets],
    events: [...endpoint.events],
    timeout_ms: endpoint.timeoutMs,
  };
}
