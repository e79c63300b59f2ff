import { QUERY_BUCKETS, StoreError } from '@costtrace/store';
import type {
  CostQuery,
  CostReportRow,
  CoverageQuery,
  PricingCoverageRow,
  TopSpanRow,
  TopSpansQuery,
} from '@costtrace/store';
import type { CostSource } from './analysis/common-flags.js';

/**
 * Cost data from a running aggregator's query API (`--store api:URL`): the same CostQuery
 * semantics, answered by whatever store that process holds — the way to query a running
 * `costtrace dev`, whose DuckDB file is locked by it.
 */
export class ApiCostSource implements CostSource {
  private readonly base: URL;

  constructor(baseUrl: string) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch (cause) {
      throw new StoreError(
        'INVALID_CONFIG',
        `api store ${JSON.stringify(baseUrl)} is not a URL: use api:http://HOST:PORT`,
        {
          cause,
        },
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new StoreError('INVALID_CONFIG', `api store must be http(s)://, got ${url.protocol}`);
    }
    this.base = url;
  }

  async queryCosts(query: CostQuery): Promise<CostReportRow[]> {
    const params = new URLSearchParams();
    if (query.groupBy.length > 0) params.set('group_by', query.groupBy.join(','));
    params.set('since', String(query.since));
    params.set('until', String(query.until));
    if (query.bucketSeconds !== undefined) {
      const bucket = Object.entries(QUERY_BUCKETS).find(([, seconds]) => seconds === query.bucketSeconds)?.[0];
      if (bucket === undefined) throw new StoreError('QUERY_FAILED', `no API bucket of ${query.bucketSeconds} s`);
      params.set('bucket', bucket);
    }
    params.set('limit', String(query.limit));
    params.set('order_by', query.orderBy);
    params.set('source', query.source);
    if (query.includeCorrections) params.set('corrections', 'true');
    appendFilters(params, query.filters);
    return this.get<CostReportRow>('/api/v1/costs', params);
  }

  async topSpans(query: TopSpansQuery): Promise<TopSpanRow[]> {
    const params = new URLSearchParams();
    params.set('since', String(query.since));
    params.set('until', String(query.until));
    params.set('limit', String(query.limit));
    appendFilters(params, query.filters);
    return this.get<TopSpanRow>('/api/v1/top/spans', params);
  }

  async pricingCoverage(query: CoverageQuery): Promise<PricingCoverageRow[]> {
    const params = new URLSearchParams();
    params.set('group_by', query.groupBy.join(','));
    params.set('since', String(query.since));
    params.set('until', String(query.until));
    params.set('limit', String(query.limit));
    appendFilters(params, query.filters);
    return this.get<PricingCoverageRow>('/api/v1/coverage', params);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async get<T>(path: string, params: URLSearchParams): Promise<T[]> {
    const url = new URL(path, this.base);
    url.search = params.toString();
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    } catch (cause) {
      throw new StoreError(
        'UNAVAILABLE',
        `the query API at ${this.base.origin} is not reachable (is costtrace dev or the aggregator running?)`,
        { cause },
      );
    }
    const body = (await res.json().catch(() => null)) as { rows?: T[]; error?: { message?: string } } | null;
    if (!res.ok || body === null || !Array.isArray(body.rows)) {
      throw new StoreError('QUERY_FAILED', `query API answered ${res.status}: ${body?.error?.message ?? 'no rows'}`);
    }
    return body.rows;
  }
}

function appendFilters(params: URLSearchParams, filters: CostQuery['filters']): void {
  for (const filter of filters)
    for (const value of filter.values) params.append('where', `${filter.dimension}=${value}`);
}
