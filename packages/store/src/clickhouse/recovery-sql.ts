import { ROLLUP_KEY, ROLLUP_MEASURES, ROLLUP_MINUTE, rollupRowSelect, rollupTruthSelect } from './migrations.js';
import { stringLiteral, uintLiteral } from './sql-literals.js';

/**
 * SQL of crash recovery and of the rollup check, for ClickHouse 18.16 and current releases alike
 * (the chDB comparison test runs these same statements). `db` is a checked identifier; every
 * value is a quoted literal. Results are text (64-bit counts and decimals as strings).
 */

/** Rows of one source partition: the condition both tables are filtered by. */
export function sourceCondition(topic: string, partition: number): string {
  return `kafka_topic = ${stringLiteral(topic)} AND kafka_partition = ${uintLiteral(partition)}`;
}

/** (offset, span index, minute) of every stored span of messages `from..to` of a partition. */
export function storedSpanKeysSql(db: string, topic: string, partition: number, from: bigint, to: bigint): string {
  return (
    `SELECT toString(kafka_offset) AS offset, kafka_span_index AS index, ` +
    `toString(toUInt32(${ROLLUP_MINUTE})) AS minute FROM ${db}.span_costs ` +
    `WHERE ${sourceCondition(topic, partition)} ` +
    `AND kafka_offset >= ${uintLiteral(from)} AND kafka_offset <= ${uintLiteral(to)}`
  );
}

const KEY_AND_MEASURES = [...ROLLUP_KEY, ...ROLLUP_MEASURES.map(([column]) => column)];
const AS_TEXT = KEY_AND_MEASURES.map((column) =>
  column === 'minute' ? 'toString(toUInt32(minute)) AS minute' : `toString(${column}) AS ${column}`,
).join(', ');

/** The rollup columns in the order the repair writes them. */
export const ROLLUP_COLUMNS: readonly string[] = KEY_AND_MEASURES;

/** Minutes (ascending, unix seconds) as a range plus a list: the range lets both tables prune. */
function minuteRange(column: string, minutes: readonly number[], inclusiveEnd: boolean): string {
  const first = minutes[0] ?? 0;
  const last = minutes[minutes.length - 1] ?? 0;
  const list = minutes.map((m) => uintLiteral(m)).join(', ');
  const end = inclusiveEnd
    ? `${column} <= toDateTime(${uintLiteral(last)})`
    : `${column} < toDateTime(${uintLiteral(last + 60)})`;
  return `${column} >= toDateTime(${uintLiteral(first)}) AND ${end} AND intDiv(toUInt32(${column}), 60) * 60 IN (${list})`;
}

/** The rollup rows the spans of a source partition make in the given minutes, per key. */
export function rollupTruthByKeySql(db: string, source: string, minutes: readonly number[]): string {
  return `SELECT ${AS_TEXT} FROM (${rollupTruthSelect(db, `${source} AND ${minuteRange('start_time', minutes, false)}`)})`;
}

/** What the rollup holds for a source partition in the given minutes, summed per key. */
export function rollupHeldByKeySql(db: string, source: string, minutes: readonly number[]): string {
  return (
    `SELECT ${AS_TEXT} FROM (SELECT ${ROLLUP_KEY.join(', ')}, ` +
    ROLLUP_MEASURES.map(([column]) => `sum(${column}) AS ${column}`).join(', ') +
    ` FROM ${db}.span_costs_1m WHERE ${source} AND ${minuteRange('minute', minutes, true)} ` +
    `GROUP BY ${ROLLUP_KEY.join(', ')})`
  );
}

/** Optional time range [from, to) in unix seconds for the per-minute check. */
export interface MinuteRange {
  readonly fromUnixSeconds: number;
  readonly toUnixSeconds: number;
}

const MINUTE_SUMS = ROLLUP_MEASURES.map(([column]) => `toString(sum(${column})) AS ${column}`).join(', ');

/** Per minute, every rollup measure as the spans say it should be. */
export function minuteTruthSql(db: string, range?: MinuteRange): string {
  const where =
    range === undefined
      ? ''
      : `start_time >= toDateTime(${uintLiteral(range.fromUnixSeconds)}) AND start_time < toDateTime(${uintLiteral(range.toUnixSeconds)})`;
  return `SELECT toString(toUInt32(minute)) AS minute, ${MINUTE_SUMS} FROM (${rollupRowSelect(db, where)}) GROUP BY minute`;
}

/** Per minute, every rollup measure as the rollup holds it. */
export function minuteHeldSql(db: string, range?: MinuteRange): string {
  // Filtered in a subquery: the text alias `minute` would replace the column in this level's WHERE.
  const where =
    range === undefined
      ? ''
      : ` WHERE minute >= toDateTime(${uintLiteral(range.fromUnixSeconds)}) AND minute < toDateTime(${uintLiteral(range.toUnixSeconds)})`;
  return `SELECT toString(toUInt32(minute)) AS minute, ${MINUTE_SUMS} FROM (SELECT * FROM ${db}.span_costs_1m${where}) GROUP BY minute`;
}
