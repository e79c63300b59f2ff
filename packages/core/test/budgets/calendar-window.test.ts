import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calendarPeriod } from '../../src/index.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('calendar windows', () => {
  it('computes UTC day, ISO week and month', () => {
    const t = Date.parse('2026-11-19T15:30:00Z'); // a Thursday
    assert.deepEqual(
      [calendarPeriod(t, 'day', 'UTC')].map((p) => [iso(p.startMs), iso(p.endMs)]),
      [['2026-11-19T00:00:00.000Z', '2026-11-20T00:00:00.000Z']],
    );
    const week = calendarPeriod(t, 'week', 'UTC');
    assert.equal(iso(week.startMs), '2026-11-16T00:00:00.000Z');
    assert.equal(iso(week.endMs), '2026-11-23T00:00:00.000Z');
    const month = calendarPeriod(Date.parse('2026-12-31T23:59:59Z'), 'month', 'UTC');
    assert.equal(iso(month.startMs), '2026-12-01T00:00:00.000Z');
    assert.equal(iso(month.endMs), '2027-01-01T00:00:00.000Z');
  });

  it('follows a time zone, including DST days of 23 and 25 hours', () => {
    const ny = calendarPeriod(Date.parse('2026-11-20T03:00:00Z'), 'day', 'America/New_York');
    assert.equal(iso(ny.startMs), '2026-11-19T05:00:00.000Z', '22:00 local on the 19th');
    const spring = calendarPeriod(Date.parse('2026-03-29T12:00:00Z'), 'day', 'Europe/Berlin');
    assert.equal(iso(spring.startMs), '2026-03-28T23:00:00.000Z');
    assert.equal(spring.endMs - spring.startMs, 23 * 3_600_000);
    const autumn = calendarPeriod(Date.parse('2026-10-25T12:00:00Z'), 'day', 'Europe/Berlin');
    assert.equal(autumn.endMs - autumn.startMs, 25 * 3_600_000);
    const kolkata = calendarPeriod(Date.parse('2026-11-01T00:00:00Z'), 'month', 'Asia/Kolkata');
    assert.equal(iso(kolkata.startMs), '2026-10-31T18:30:00.000Z');
  });
});
