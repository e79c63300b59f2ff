import { AggregatorClient, ApiError } from '@costtrace/client';
import type { DimensionFilterParam } from '@costtrace/client';
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
  private readonly client: AggregatorClient;

  constructor(baseUrl: string) {
    try {
      this.client = new AggregatorClient({ baseUrl });
    } catch (cause) {
      throw new StoreError(
        'INVALID_CONFIG',
        `api store ${JSON.stringify(baseUrl)}: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
  }

  queryCosts(query: CostQuery): Promise<CostReportRow[]> {
    let bucket: string | undefined;
    if (query.bucketSeconds !== undefined) {
      bucket = Object.entries(QUERY_BUCKETS).find(([, seconds]) => seconds === query.bucketSeconds)?.[0];
      if (bucket === undefined) throw new StoreError('QUERY_FAILED', `no API bucket of ${query.bucketSeconds} s`);
    }
    return this.call(() =>
      this.client.costs({
        groupBy: query.groupBy,
        since: query.since,
        until: query.until,
        bucket,
        limit: query.limit,
        orderBy: query.orderBy,
        source: query.source,
        corrections: query.includeCorrections,
        where: filters(query.filters),
      }),
    );
  }

  topSpans(query: TopSpansQuery): Promise<TopSpanRow[]> {
    return this.call(() =>
      this.client.topSpans({
        since: query.since,
        until: query.until,
        limit: query.limit,
        where: filters(query.filters),
      }),
    );
  }

  pricingCoverage(query: CoverageQuery): Promise<PricingCoverageRow[]> {
    return this.call(() =>
      this.client.coverage({
        groupBy: query.groupBy,
        since: query.since,
        until: query.until,
        limit: query.limit,
        where: filters(query.filters),
      }),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The API's failures as the store's: unreachable → UNAVAILABLE, an error answer → QUERY_FAILED. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === 'UNREACHABLE' || err.code === 'TIMEOUT') {
        throw new StoreError(
          'UNAVAILABLE',
          `the query API at ${this.client.baseUrl.origin} is not reachable (is costtrace dev or the aggregator running?)`,
          { cause: err },
        );
      }
      throw new StoreError(
        'QUERY_FAILED',
        `query API answered ${err.status ?? '?'}: ${err.serverMessage ?? (err.code === 'INVALID_RESPONSE' ? 'no rows' : err.message)}`,
        { cause: err },
      );
    }
  }
}

function filters(list: CostQuery['filters']): DimensionFilterParam[] {
  return list.map((f) => ({ dimension: f.dimension, values: f.values }));
}
