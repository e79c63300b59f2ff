import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Router } from '@costtrace/service-kit';
import { DASHBOARD_CSS, DASHBOARD_FAVICON_SVG, DASHBOARD_HTML } from './dashboard-page.js';

/**
 * The dashboard's Content-Security-Policy: scripts and styles from this origin only (no inline
 * script, no inline event handlers, no inline style attributes), data fetched from this origin
 * only, nothing framed, no forms, no plugins.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** One request handler for the dashboard; true when it answered the request. */
export type DashboardHandler = ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) & {
  /** The paths it serves. */
  readonly paths: readonly string[];
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly etag: string;
}

function asset(type: string, text: string): Asset {
  const body = Buffer.from(text, 'utf8');
  return { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/**
 * The dashboard as a self-contained handler: `GET /` serves the page, `GET /ui/dashboard.js`,
 * `/ui/dashboard.css` and `/ui/favicon.svg` its module, styles and icon. Everything is served from
 * memory (the module is read once from the build), nothing is fetched from elsewhere; the page
 * reads the query API of the server that mounts it
 * (`/api/v1/costs`, `/api/v1/top/routes`, `/api/v1/health`, `/api/v1/coverage`, `/v1/budgets`,
 * `/v1/throttles`).
 * Any other path is left to the next handler (returns false).
 */
export function createDashboardHandler(): DashboardHandler {
  // The browser module, type-checked and built by its own project (src/dashboard/browser) into
  // dist/browser/; read once, here.
  const script = readFileSync(new URL('../../browser/dashboard.js', import.meta.url), 'utf8');
  const assets = new Map<string, Asset>([
    ['/', asset('text/html; charset=utf-8', DASHBOARD_HTML)],
    ['/index.html', asset('text/html; charset=utf-8', DASHBOARD_HTML)],
    ['/ui/dashboard.js', asset('text/javascript; charset=utf-8', script)],
    ['/ui/dashboard.css', asset('text/css; charset=utf-8', DASHBOARD_CSS)],
    ['/ui/favicon.svg', asset('image/svg+xml', DASHBOARD_FAVICON_SVG)],
  ]);
  const handler = (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const found = assets.get(path);
    if (found === undefined) return Promise.resolve(false);
    const headers: Record<string, string | number> = {
      'content-security-policy': DASHBOARD_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'cache-control': 'no-cache',
      etag: found.etag,
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('use GET\n');
      return Promise.resolve(true);
    }
    if (req.headers['if-none-match'] === found.etag) {
      res.writeHead(304, headers);
      res.end();
      return Promise.resolve(true);
    }
    res.writeHead(200, { ...headers, 'content-type': found.type, 'content-length': found.body.length });
    res.end(req.method === 'HEAD' ? undefined : found.body);
    return Promise.resolve(true);
  };
  return Object.assign(handler, { paths: [...assets.keys()] });
}

/** Serves the dashboard's paths on a router (GET and HEAD; other methods get the router's 405). */
export function addDashboardRoutes(router: Router, handler: DashboardHandler): void {
  for (const path of handler.paths) {
    router.get(path, async ({ req, res }) => {
      await handler(req, res);
    });
  }
}
