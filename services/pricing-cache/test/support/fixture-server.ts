import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);

export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));
}

export interface FixtureServer {
  readonly url: string;
  /** Requests seen, as path + query. */
  readonly requests: string[];
  /** Replace the body (or status) of a path; `undefined` restores the fixture. */
  set(path: string, response: { status?: number; body?: string } | undefined): void;
  close(): Promise<void>;
}

/**
 * A loopback HTTP server answering like the real price APIs, from the fixture files:
 * AWS offer files, Azure Retail Prices (two pages via NextPageLink), GCP Cloud Billing Catalog
 * SKUs (two pages via pageToken) and a LiteLLM price map.
 */
export async function startFixtureServer(): Promise<FixtureServer> {
  const requests: string[] = [];
  const overrides = new Map<string, { status?: number; body?: string }>();
  let base = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    requests.push(url.pathname + url.search);
    const custom = overrides.get(url.pathname);
    if (custom !== undefined) {
      res.writeHead(custom.status ?? 200, { 'content-type': 'application/json' }).end(custom.body ?? '');
      return;
    }
    const send = (value: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    switch (url.pathname) {
      case '/offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json':
        send(fixture('aws-ec2-offer.json'));
        return;
      case '/api/retail/prices': {
        const second = url.searchParams.get('$skip') === '100';
        const page = fixture(second ? 'azure-retail-page2.json' : 'azure-retail-page1.json') as Record<string, unknown>;
        if (!second) page.NextPageLink = `${base}/api/retail/prices?${url.searchParams.toString()}&$skip=100`;
        send(page);
        return;
      }
      case '/v1/services/6F81-5844-456A/skus':
        send(fixture(url.searchParams.get('pageToken') === 'CAE=' ? 'gcp-skus-page2.json' : 'gcp-skus-page1.json'));
        return;
      case '/litellm/model_prices_and_context_window.json':
        send(fixture('litellm-prices.json'));
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    set: (path, response) => (response === undefined ? overrides.delete(path) : overrides.set(path, response)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
