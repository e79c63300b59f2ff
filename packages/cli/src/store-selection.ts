import { parseArgs as tokenize } from 'node:util';
import { DuckDbStore, StoreError } from '@costtrace/store';
import type { ClickHouseStore } from '@costtrace/store';
import type { CostSource } from './analysis/common-flags.js';
import { ApiCostSource } from './api-cost-source.js';
import { storeFromEnv } from './clickhouse-from-env.js';

/**
 * Where `--store` / COSTTRACE_STORE point: ClickHouse (default), an embedded DuckDB file, or the
 * query API of a running aggregator or `costtrace dev`.
 */
export type StoreSelection =
  | { readonly kind: 'clickhouse' }
  | { readonly kind: 'duckdb'; readonly path: string }
  | { readonly kind: 'api'; readonly url: string };

export const STORE_HELP = `--store clickhouse|duckdb:PATH|api:URL   which store to read (or COSTTRACE_STORE; default
                                 clickhouse, from CLICKHOUSE_URL). The DuckDB file of a running
                                 \`costtrace dev\` is locked by it: read it through its query API
                                 then, e.g. --store api:http://127.0.0.1:PORT (the port dev prints).`;

/** Pure: the `--store` value (or COSTTRACE_STORE) → a selection, or a message that says what to use. */
export function parseStoreSelection(
  text: string | undefined,
): { ok: true; value: StoreSelection } | { ok: false; message: string } {
  if (text === undefined || text === '' || text === 'clickhouse') return { ok: true, value: { kind: 'clickhouse' } };
  if (text.startsWith('duckdb:') && text.length > 'duckdb:'.length) {
    return { ok: true, value: { kind: 'duckdb', path: text.slice('duckdb:'.length) } };
  }
  if (/^api:https?:\/\/./.test(text)) return { ok: true, value: { kind: 'api', url: text.slice('api:'.length) } };
  return {
    ok: false,
    message: `store ${JSON.stringify(text)} is not clickhouse, duckdb:PATH (e.g. duckdb:./.costtrace/costtrace.duckdb) or api:URL (e.g. api:http://127.0.0.1:8080)`,
  };
}

/**
 * Takes `--store VALUE` / `--store=VALUE` out of argv (the command's own parser does not know it);
 * the flag wins over COSTTRACE_STORE.
 */
export function extractStoreFlag(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { argv: string[]; store: string | undefined } {
  // The CLI's tokenizer (node:util parseArgs) finds --store wherever it stands before `--`;
  // the command's own parser then sees the rest.
  const { tokens } = tokenize({
    args: [...argv],
    options: { store: { type: 'string' } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const taken = new Set<number>();
  let store = env.COSTTRACE_STORE;
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name !== 'store') continue;
    store = token.value ?? '';
    taken.add(token.index);
    if (token.value !== undefined && token.inlineValue !== true) taken.add(token.index + 1);
  }
  const rest = argv.filter((_, i) => !taken.has(i));
  return { argv: rest, store };
}

/**
 * Opens the selected store: DuckDB read-only, so a reader never changes the embedded file. Both
 * are a CostStore and a SqlReader (for the store-neutral SQL of export and recommend); the query
 * API is only a CostSource, so `store` is absent for it.
 */
export function openSelected(
  selection: StoreSelection,
  env: Readonly<Record<string, string | undefined>>,
): { store: ClickHouseStore | DuckDbStore | undefined; source: CostSource; close: () => Promise<void> } {
  if (selection.kind === 'api') {
    const api = new ApiCostSource(selection.url);
    return { store: undefined, source: api, close: () => api.close() };
  }
  const store =
    selection.kind === 'duckdb' ? new DuckDbStore({ path: selection.path, readOnly: true }) : storeFromEnv(env);
  return { store, source: store, close: () => store.close() };
}

export const WRITABLE_STORE_HELP = `--store clickhouse|duckdb:PATH   which store to change (or COSTTRACE_STORE; default clickhouse,
                                 from CLICKHOUSE_URL). A DuckDB file is opened read-write, so not
                                 while a running \`costtrace dev\` holds it; api:URL cannot be
                                 written through.`;

/**
 * Opens the selected store for a command that writes (migrate, reprice): DuckDB read-write.
 * The query API is read-only, so `api:` is refused with a message that says what to use.
 */
export function openWritable(
  selection: StoreSelection,
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; store: ClickHouseStore | DuckDbStore } | { ok: false; message: string } {
  if (selection.kind === 'api') {
    return {
      ok: false,
      message: `the query API (${selection.url}) is read-only: use --store clickhouse or --store duckdb:PATH (stop a costtrace dev that holds the file first)`,
    };
  }
  return {
    ok: true,
    store: selection.kind === 'duckdb' ? new DuckDbStore({ path: selection.path }) : storeFromEnv(env),
  };
}

/** The message for a store that cannot be opened, with what to do (`writing`: migrate, reprice). */
export function storeOpenHint(selection: StoreSelection, err: unknown, writing = false): string | undefined {
  if (selection.kind !== 'duckdb' || !(err instanceof StoreError) || err.code !== 'UNAVAILABLE') return undefined;
  if (!/lock/i.test(err.message)) return `cannot open ${selection.path}: ${err.message}`;
  return writing
    ? `${selection.path} is open in another process (a running costtrace dev holds it): stop it, then run this again`
    : `${selection.path} is open in another process (a running costtrace dev holds it): query that process's API instead, e.g. curl 'http://127.0.0.1:<api port>/api/v1/costs?by=route&since=1h'`;
}
