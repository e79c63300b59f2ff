/**
 * The tables of imported bills, in ClickHouse (migration 10) and DuckDB (migration 7).
 *
 * `billed_lines` holds every imported line under its import's id; `bill_imports` lists which UTC
 * days each import covers, per source and account. The current lines are those of the latest
 * import of each (source, account, day): an import becomes visible, for all its days at once, when
 * its `bill_imports` rows are written, after all of its lines.
 */

/** billed_lines' columns in insert order (the TSV and VALUES encoders follow it). */
export const BILLED_LINE_COLUMNS = [
  'import_id',
  'source',
  'provider',
  'account',
  'project',
  'api_key',
  'model',
  'service_tier',
  'day',
  'period_start',
  'period_end',
  'kind',
  'quantity',
  'unit',
  'has_billed_cost',
  'billed_cost',
  'has_list_cost',
  'list_cost',
  'currency',
  'description',
  'charge_category',
  'service',
  'resource_id',
] as const;

export const BILL_IMPORT_COLUMNS = ['import_id', 'source', 'account', 'day', 'imported_at', 'lines', 'origin'] as const;

/** ClickHouse (18.16 and current): `day` is unix seconds of the UTC midnight (no Date time-zone pitfalls). */
export const CLICKHOUSE_BILL_TABLES = [
  `CREATE TABLE IF NOT EXISTS {db}.billed_lines (
        import_id String,
        source String,
        provider String,
        account String,
        project String,
        api_key String,
        model String,
        service_tier String,
        day UInt32,
        period_start DateTime('UTC'),
        period_end DateTime('UTC'),
        kind String,
        quantity Decimal(38, 12),
        unit String,
        has_billed_cost UInt8,
        billed_cost Decimal(38, 12),
        has_list_cost UInt8,
        list_cost Decimal(38, 12),
        currency String,
        description String,
        charge_category String,
        service String,
        resource_id String
      ) ENGINE = MergeTree()
      PARTITION BY toYYYYMM(period_start)
      ORDER BY (source, account, day, provider, model, import_id)`,
  `CREATE TABLE IF NOT EXISTS {db}.bill_imports (
        import_id String,
        source String,
        account String,
        day UInt32,
        imported_at UInt64,
        lines UInt64,
        origin String
      ) ENGINE = MergeTree()
      ORDER BY (source, account, day, imported_at)`,
] as const;

const MONEY = 'DECIMAL(38,12)';

/** DuckDB: the same columns; times are unix seconds (BIGINT) as in its other tables. */
export const DUCKDB_BILL_TABLES = [
  `CREATE TABLE IF NOT EXISTS billed_lines (
        import_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        provider VARCHAR NOT NULL,
        account VARCHAR NOT NULL,
        project VARCHAR NOT NULL,
        api_key VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        service_tier VARCHAR NOT NULL,
        day BIGINT NOT NULL,
        period_start BIGINT NOT NULL,
        period_end BIGINT NOT NULL,
        kind VARCHAR NOT NULL,
        quantity ${MONEY} NOT NULL,
        unit VARCHAR NOT NULL,
        has_billed_cost UTINYINT NOT NULL,
        billed_cost ${MONEY} NOT NULL,
        has_list_cost UTINYINT NOT NULL,
        list_cost ${MONEY} NOT NULL,
        currency VARCHAR NOT NULL,
        description VARCHAR NOT NULL,
        charge_category VARCHAR NOT NULL,
        service VARCHAR NOT NULL,
        resource_id VARCHAR NOT NULL
      )`,
  `CREATE TABLE IF NOT EXISTS bill_imports (
        import_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        account VARCHAR NOT NULL,
        day BIGINT NOT NULL,
        imported_at UBIGINT NOT NULL,
        lines UBIGINT NOT NULL,
        origin VARCHAR NOT NULL
      )`,
] as const;

/** reconcile_results' columns in insert order (one row per reconcile row of a saved run). */
export const RECONCILE_RESULT_COLUMNS = [
  'run_id',
  'run_at',
  'since',
  'until',
  'group_by',
  'day',
  'provider',
  'model',
  'project',
  'currency',
  'billed_cost_known',
  'billed_cost',
  'billed_list_cost',
  'traced_list_cost',
  'traced_cost',
  'drift',
  'untraced',
  'cache_or_tier',
  'unpriced',
  'rate',
  'timing',
  'unexplained',
] as const;

/**
 * Saved reconcile runs (`costtrace reconcile --save`, and every drift check): the figures as they
 * were, so drift can be followed over time and an alert traced back to what it saw. A run's rows
 * are written in one insert; amounts exact; `billed_cost_known` 0 where the bill stated no cost.
 */
export const CLICKHOUSE_RECONCILE_TABLE = `CREATE TABLE IF NOT EXISTS {db}.reconcile_results (
        run_id String,
        run_at DateTime('UTC'),
        since UInt32,
        until UInt32,
        group_by String,
        day UInt32,
        provider String,
        model String,
        project String,
        currency String,
        billed_cost_known UInt8,
        billed_cost Decimal(38, 12),
        billed_list_cost Decimal(38, 12),
        traced_list_cost Decimal(38, 12),
        traced_cost Decimal(38, 12),
        drift Decimal(38, 12),
        untraced Decimal(38, 12),
        cache_or_tier Decimal(38, 12),
        unpriced Decimal(38, 12),
        rate Decimal(38, 12),
        timing Decimal(38, 12),
        unexplained Decimal(38, 12)
      ) ENGINE = MergeTree()
      PARTITION BY toYYYYMM(run_at)
      ORDER BY (run_at, run_id, provider, model, day)`;

export const DUCKDB_RECONCILE_TABLE = `CREATE TABLE IF NOT EXISTS reconcile_results (
        run_id VARCHAR NOT NULL,
        run_at BIGINT NOT NULL,
        since BIGINT NOT NULL,
        until BIGINT NOT NULL,
        group_by VARCHAR NOT NULL,
        day BIGINT NOT NULL,
        provider VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        project VARCHAR NOT NULL,
        currency VARCHAR NOT NULL,
        billed_cost_known UTINYINT NOT NULL,
        billed_cost ${MONEY} NOT NULL,
        billed_list_cost ${MONEY} NOT NULL,
        traced_list_cost ${MONEY} NOT NULL,
        traced_cost ${MONEY} NOT NULL,
        drift ${MONEY} NOT NULL,
        untraced ${MONEY} NOT NULL,
        cache_or_tier ${MONEY} NOT NULL,
        unpriced ${MONEY} NOT NULL,
        rate ${MONEY} NOT NULL,
        timing ${MONEY} NOT NULL,
        unexplained ${MONEY} NOT NULL
      )`;
