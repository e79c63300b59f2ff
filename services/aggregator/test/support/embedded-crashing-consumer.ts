// The embedded aggregator (in-process bus, DuckDB) consuming in a child process that SIGKILLs
// itself at a chosen stage of a batch (embedded-crash.test.ts spawns it). Environment:
//   EMBEDDED_DIR    data folder (bus log and offsets, costtrace.duckdb)
//   CRASH_STAGE     batch-received | before-insert | insert-started | after-insert | after-commit | none
//   CRASH_AT        kill at the Nth occurrence of the stage (default 1)
//   CRASH_DELAY_MS  with insert-started: kill this many ms after the insert started
//   EXPECTED_SPANS  with CRASH_STAGE=none: stop gracefully (exit 0) once the store holds this many rows
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { DuckDbStore } from '@costtrace/store';
import { Aggregator, InProcessBus, InProcessMessageLog, loadConfig } from '../../src/index.js';
import type { ConsumerStage } from '../../src/kafka/span-consumer.js';

const dir = process.env.EMBEDDED_DIR ?? '';
const stage = (process.env.CRASH_STAGE ?? 'none') as ConsumerStage | 'none';
const at = Number(process.env.CRASH_AT ?? '1');
const delayMs = Number(process.env.CRASH_DELAY_MS ?? '0');
const expected = Number(process.env.EXPECTED_SPANS ?? '0');
let seen = 0;

function die(): void {
  writeSync(2, `CRASH ${stage}\n`);
  process.kill(process.pid, 'SIGKILL');
}

const logger = pino({ level: process.env.CHILD_LOG_LEVEL ?? 'silent' });
// Small deliveries: many batches, so every stage keeps finding work for the next child.
const bus = new InProcessBus({ dataDir: join(dir, 'bus'), logger, maxBatchMessages: 3 });
const store = new DuckDbStore({ path: join(dir, 'costtrace.duckdb') });
const aggregator = new Aggregator({
  // Small inserts: a batch takes several, so kills land between them too.
  config: loadConfig({ retentionIntervalSeconds: 0, maxBatchRows: 15 }, {}),
  logger,
  messageLog: new InProcessMessageLog(bus),
  store,
  ingest: false,
  api: false,
  onConsumerStage: (current, info) => {
    if (current !== stage) return;
    if ((current === 'before-insert' || current === 'insert-started' || current === 'after-insert') && info.rows === 0)
      return;
    if (++seen < at) return;
    if (delayMs > 0) setTimeout(die, delayMs);
    else die();
  },
});
await aggregator.start();
writeSync(2, 'STARTED\n');
if (stage === 'none') {
  for (;;) {
    const [row] = await store.select<{ n: string }>('SELECT count(*)::VARCHAR AS n FROM span_costs');
    if (Number(row?.n) >= expected) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await aggregator.stop();
  bus.close();
  process.exit(0);
}
