// What an insert into span_costs costs ClickHouse, by insert size: the same 300,000 rows (the
// kafka-to-clickhouse workload, priced) written as inserts of 100,000, 45,000 and 15,000 rows,
// one at a time, and as 45,000-row inserts three at once (what a consumer of three partitions
// did before its partitions shared inserts). Printed: rows/s and the ClickHouse server's CPU
// per 1,000 rows while the inserts ran (from /proc), and the fixed CPU cost per insert and the
// cost per 1,000 rows fitted to the one-at-a-time sizes. Each shape gets a fresh database with
// the full schema (the materialized view writes the rollup with every insert); shapes alternate
// over two rounds and the median of the two is printed.
//
//   npm run build && CLICKHOUSE_URL=http://127.0.0.1:18123 node bench/aggregator/insert-size.bench.mjs [shapes]
//
// shapes: comma-separated ROWSxCONCURRENCY (default 100000x1,45000x1,15000x1,45000x3).
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { createClient } from '@clickhouse/client';
import { ExportTraceServiceRequest } from '@costtrace/proto';
import { ClickHouseStore, SPAN_COST_COLUMNS, spanCostTsv } from '@costtrace/store';
import { bundledPricingView, StaticPriceSource } from '@costtrace/core';
import { spanCostRows } from '@costtrace/aggregator';
import { tokenSpanRequest } from './token-span-workload.mjs';

const url = process.env.CLICKHOUSE_URL;
if (url === undefined) throw new Error('set CLICKHOUSE_URL (e.g. http://127.0.0.1:18123 after scripts/services.sh up)');
const shapes = (process.argv[2] ?? '100000x1,45000x1,15000x1,45000x3').split(',').map((shape) => {
  const [rows, concurrency] = shape.split('x').map(Number);
  if (!(rows > 0) || !(concurrency > 0)) throw new Error(`shape ${shape}: use ROWSxCONCURRENCY, e.g. 45000x3`);
  return { name: shape, rows, concurrency };
});
const ROWS = 300_000;
const PER_MESSAGE = 100;

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const serverPids = readdirSync('/proc')
  .filter((entry) => /^\d+$/.test(entry))
  .filter((pid) => {
    try {
      return /clickhouse(-server|\0server)/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  });
if (serverPids.length === 0) throw new Error('no ClickHouse server process on this machine to read the CPU of');
function serverCpuSeconds() {
  let seconds = 0;
  for (const pid of serverPids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    seconds += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }
  return seconds;
}

// The rows, as the consumer makes them of the bench workload (three partitions' worth).
const prices = new StaticPriceSource(bundledPricingView());
const lines = [];
for (let m = 0; lines.length < ROWS; m++) {
  const request = ExportTraceServiceRequest.decode(
    ExportTraceServiceRequest.encode(tokenSpanRequest(m, PER_MESSAGE)).finish(),
  );
  const result = spanCostRows(request, { topic: 'bench', partition: m % 3, offset: BigInt(m) }, Date.now(), {
    prices,
  });
  for (const row of result.rows) lines.push(spanCostTsv(row));
}

const client = createClient({ url });
const id = randomUUID().replaceAll('-', '').slice(0, 8);

async function measure(shape, round) {
  const database = `ct_insert_size_${id}_${round}_${shape.name.replace('x', '_')}`;
  const store = new ClickHouseStore({ url, database });
  await store.migrate();
  const bodies = [];
  for (let i = 0; i < lines.length; i += shape.rows) bodies.push(Buffer.from(lines.slice(i, i + shape.rows).join('')));
  const cpuBefore = serverCpuSeconds();
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: shape.concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        await client.insert({
          table: `${database}.span_costs`,
          columns: [...SPAN_COST_COLUMNS],
          format: 'TabSeparated',
          values: Readable.from([body], { objectMode: false }),
        });
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = serverCpuSeconds() - cpuBefore;
  await store.command(`DROP DATABASE IF EXISTS ${database}`);
  await store.close();
  return { inserts: bodies.length, rowsPerSecond: lines.length / seconds, cpuMsPer1k: (cpu * 1e6) / lines.length };
}

const results = new Map(shapes.map((s) => [s.name, []]));
for (let round = 0; round < 2; round++) {
  for (const shape of shapes) results.get(shape.name).push(await measure(shape, round));
}
await client.close();

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[Math.floor((sorted.length - 1) / 2)] + sorted[Math.ceil((sorted.length - 1) / 2)]) / 2;
};
console.log(
  `${ROWS.toLocaleString('en')} span_costs rows (with the rollup view), ClickHouse CPU from /proc, median of 2 rounds`,
);
const points = [];
for (const shape of shapes) {
  const runs = results.get(shape.name);
  const cpu = median(runs.map((r) => r.cpuMsPer1k));
  const rate = median(runs.map((r) => r.rowsPerSecond));
  console.log(
    `  ${String(shape.rows).padStart(7)} rows per insert × ${shape.concurrency} at once: ${runs[0].inserts} inserts, ` +
      `${Math.round(rate).toLocaleString('en')} rows/s, ClickHouse CPU ${cpu.toFixed(1)} ms per 1,000 rows`,
  );
  if (shape.concurrency === 1) points.push({ inserts: runs[0].inserts, cpuMs: (cpu * ROWS) / 1000 });
}
if (points.length >= 2) {
  // Least squares: total CPU = inserts × fixed + rows × per-row.
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.inserts, 0) / n;
  const my = points.reduce((s, p) => s + p.cpuMs, 0) / n;
  const fixed =
    points.reduce((s, p) => s + (p.inserts - mx) * (p.cpuMs - my), 0) /
    points.reduce((s, p) => s + (p.inserts - mx) ** 2, 0);
  const perRow = (my - fixed * mx) / ROWS;
  console.log(
    `  fitted (one at a time): ${fixed.toFixed(0)} ms of ClickHouse CPU per insert + ${(perRow * 1000).toFixed(1)} ms per 1,000 rows`,
  );
}
console.log(
  'reproduce: npm run build && CLICKHOUSE_URL=<url> node bench/aggregator/insert-size.bench.mjs [100000x1,45000x1,15000x1,45000x3]',
);
