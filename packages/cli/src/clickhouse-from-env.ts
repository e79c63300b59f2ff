import { ClickHouseStore } from '@costtrace/store';

/** The ClickHouse store the commands use, from CLICKHOUSE_URL / _DATABASE / _USER / _PASSWORD. */
export function storeFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): ClickHouseStore {
  return new ClickHouseStore({
    url: env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
    database: env.CLICKHOUSE_DATABASE ?? 'costtrace',
    username: env.CLICKHOUSE_USER,
    password: env.CLICKHOUSE_PASSWORD,
  });
}
