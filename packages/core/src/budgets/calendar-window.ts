import { BudgetError } from './budget-error.js';

export type CalendarPeriod = 'day' | 'week' | 'month';

/** Half-open period [startMs, endMs) in UTC epoch milliseconds. */
export interface PeriodBounds {
  readonly startMs: number;
  readonly endMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a BudgetError naming `field` unless `timeZone` is "UTC" or an IANA zone this runtime knows. */
export function checkTimeZone(timeZone: string, field: string): void {
  if (timeZone.length > 64) throw new BudgetError('INVALID_TIME_ZONE', field, 'too long');
  try {
    formatter(timeZone);
  } catch (cause) {
    throw new BudgetError(
      'INVALID_TIME_ZONE',
      field,
      `${JSON.stringify(timeZone)} is not an IANA time zone (e.g. "Europe/Berlin", "UTC")`,
      {
        cause,
      },
    );
  }
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localTime(ms: number, timeZone: string): LocalTime {
  const out: LocalTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) {
    if (part.type in out) out[part.type as keyof LocalTime] = Number(part.value);
  }
  return out;
}

/** Offset of the zone from UTC at instant `ms`, in milliseconds (local − UTC). */
function offsetAt(ms: number, timeZone: string): number {
  const t = localTime(ms, timeZone);
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The UTC instant of local midnight starting (year, month, day) in the zone. */
function localMidnight(year: number, month: number, day: number, timeZone: string): number {
  const guess = Date.UTC(year, month - 1, day);
  const o1 = offsetAt(guess, timeZone);
  const o2 = offsetAt(guess - o1, timeZone);
  const candidates = [...new Set([guess - o1, guess - o2])].sort((a, b) => a - b);
  for (const c of candidates) {
    const t = localTime(c, timeZone);
    if (t.year === year && t.month === month && t.day === day) return c;
  }
  // Midnight does not exist that day (DST starts at 00:00): the day starts at the transition.
  return candidates[candidates.length - 1]!;
}

/**
 * The calendar period containing `ms`: a day, an ISO week (Monday to Monday) or a month, in
 * local time of `timeZone` ("UTC" or an IANA zone). Pure arithmetic over Intl; no dependencies.
 */
export function calendarPeriod(ms: number, period: CalendarPeriod, timeZone: string): PeriodBounds {
  const t = localTime(ms, timeZone);
  let start: [number, number, number];
  let end: [number, number, number];
  if (period === 'day') {
    start = [t.year, t.month, t.day];
    end = [t.year, t.month, t.day + 1];
  } else if (period === 'week') {
    const weekday = (new Date(Date.UTC(t.year, t.month - 1, t.day)).getUTCDay() + 6) % 7; // Monday = 0
    start = [t.year, t.month, t.day - weekday];
    end = [t.year, t.month, t.day - weekday + 7];
  } else {
    start = [t.year, t.month, 1];
    end = [t.year, t.month + 1, 1];
  }
  const norm = ([y, m, d]: [number, number, number]): [number, number, number] => {
    const date = new Date(Date.UTC(y, m - 1, d));
    return [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
  };
  return {
    startMs: localMidnight(...norm(start), timeZone),
    endMs: localMidnight(...norm(end), timeZone),
  };
}
