import { describe, expect, it } from 'vitest';
import {
  bucketLabel,
  buckets,
  floorToStep,
  PeriodError,
  percentChange,
  resolvePeriod,
  splitByDay,
} from '../../../src/domain/cost';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('period arithmetic (UTC)', () => {
  it('floors to ISO weeks (Monday) and calendar months', () => {
    expect(iso(floorToStep(t('2026-11-22T23:59:59Z'), 'week'))).toBe('2026-11-16T00:00:00.000Z'); // a Sunday
    expect(iso(floorToStep(t('2026-11-16T00:00:00Z'), 'week'))).toBe('2026-11-16T00:00:00.000Z');
    expect(iso(floorToStep(t('1969-12-31T12:00:00Z'), 'week'))).toBe('1969-12-29T00:00:00.000Z');
    expect(iso(floorToStep(t('2024-02-29T13:00:00Z'), 'month'))).toBe('2024-02-01T00:00:00.000Z');
    expect(iso(floorToStep(t('2026-11-21T07:42:00Z'), 'hour'))).toBe('2026-11-21T07:00:00.000Z');
  });

  it('names ISO weeks by the year of their Thursday', () => {
    expect(bucketLabel(t('2026-11-16T00:00:00Z'), 'week')).toBe('2026-W47');
    expect(bucketLabel(t('2026-12-28T00:00:00Z'), 'week')).toBe('2026-W53'); // 2026 starts on a Thursday: 53 weeks
    expect(bucketLabel(t('2021-01-03T00:00:00Z'), 'week')).toBe('2020-W53');
    expect(bucketLabel(t('2024-12-30T00:00:00Z'), 'week')).toBe('2025-W01');
    expect(bucketLabel(t('2026-11-01T00:00:00Z'), 'month')).toBe('2026-11');
  });

  it('the previous period is the same number of steps back: calendar months for months', () => {
    const now = t('2027-06-01T00:00:00Z');
    const march = resolvePeriod(
      { fromMs: t('2026-03-01T00:00:00Z'), toMs: t('2026-04-01T00:00:00Z'), step: 'month' },
      now,
    );
    expect([iso(march.previous.fromMs), iso(march.previous.toMs)]).toEqual([
      '2026-02-01T00:00:00.000Z',
      '2026-03-01T00:00:00.000Z',
    ]);
    expect(march.partial).toBe(false);
    const weeks = resolvePeriod(
      { fromMs: t('2026-11-16T00:00:00Z'), toMs: t('2026-11-30T00:00:00Z'), step: 'week' },
      now,
    );
    expect([iso(weeks.previous.fromMs), iso(weeks.previous.toMs), weeks.steps]).toEqual([
      '2026-11-02T00:00:00.000Z',
      '2026-11-16T00:00:00.000Z',
      2,
    ]);
    const hours = resolvePeriod(
      { fromMs: t('2026-11-21T07:00:00Z'), toMs: t('2026-11-21T10:00:00Z'), step: 'hour' },
      now,
    );
    expect([iso(hours.previous.fromMs), iso(hours.previous.toMs)]).toEqual([
      '2026-11-21T04:00:00.000Z',
      '2026-11-21T07:00:00.000Z',
    ]);
  });

  it('a period not closed yet is partial: it stops at the last whole hour and compares like for like', () => {
    const p = resolvePeriod(
      { fromMs: t('2026-11-16T00:00:00Z'), toMs: t('2026-11-23T00:00:00Z'), step: 'week' },
      t('2026-11-21T09:30:00Z'),
    );
    expect(p.partial).toBe(true);
    expect(iso(p.current.toMs)).toBe('2026-11-21T09:00:00.000Z');
    expect([iso(p.previous.fromMs), iso(p.previous.toMs)]).toEqual([
      '2026-11-09T00:00:00.000Z',
      '2026-11-14T09:00:00.000Z',
    ]);
    // March is longer than February: the previous part stops at February's end.
    const m = resolvePeriod(
      { fromMs: t('2026-03-01T00:00:00Z'), toMs: t('2026-04-01T00:00:00Z'), step: 'month' },
      t('2026-03-30T00:00:00Z'),
    );
    expect(iso(m.previous.toMs)).toBe('2026-03-01T00:00:00.000Z');
    const future = resolvePeriod(
      { fromMs: t('2026-12-01T00:00:00Z'), toMs: t('2027-01-01T00:00:00Z'), step: 'month' },
      t('2026-11-21T09:30:00Z'),
    );
    expect([
      future.partial,
      future.current.toMs - future.current.fromMs,
      future.previous.toMs - future.previous.fromMs,
    ]).toEqual([true, 0, 0]);
  });

  it('refuses ends that are not step boundaries, naming the parameter', () => {
    const now = t('2027-01-01T00:00:00Z');
    expect(() =>
      resolvePeriod({ fromMs: t('2026-11-17T00:00:00Z'), toMs: t('2026-11-23T00:00:00Z'), step: 'week' }, now),
    ).toThrow(PeriodError);
    expect(() =>
      resolvePeriod({ fromMs: t('2026-11-01T00:00:00Z'), toMs: t('2026-11-15T00:00:00Z'), step: 'month' }, now),
    ).toThrow(/^to: must be the start/);
    expect(() =>
      resolvePeriod({ fromMs: t('2026-11-02T00:00:00Z'), toMs: t('2026-11-02T00:00:00Z'), step: 'day' }, now),
    ).toThrow(/^to: must be after from/);
  });

  it('splits a range into whole days and hourly edges', () => {
    const r = splitByDay({ fromMs: t('2026-11-20T22:00:00Z'), toMs: t('2026-11-23T02:00:00Z') });
    expect(r.days && [iso(r.days.fromMs), iso(r.days.toMs)]).toEqual([
      '2026-11-21T00:00:00.000Z',
      '2026-11-23T00:00:00.000Z',
    ]);
    expect(r.hours.map((h) => [iso(h.fromMs), iso(h.toMs)])).toEqual([
      ['2026-11-20T22:00:00.000Z', '2026-11-21T00:00:00.000Z'],
      ['2026-11-23T00:00:00.000Z', '2026-11-23T02:00:00.000Z'],
    ]);
    expect(splitByDay({ fromMs: t('2026-11-21T07:00:00Z'), toMs: t('2026-11-21T10:00:00Z') }).days).toBeNull();
    expect(splitByDay({ fromMs: t('2026-11-20T07:00:00Z'), toMs: t('2026-11-21T05:00:00Z') }).days).toBeNull();
    expect(splitByDay({ fromMs: t('2026-11-21T00:00:00Z'), toMs: t('2026-11-22T00:00:00Z') }).hours).toEqual([]);
  });

  it('buckets cover the range exactly, the last one cut at a partial end', () => {
    const b = buckets({ fromMs: t('2026-11-01T00:00:00Z'), toMs: t('2026-11-21T09:00:00Z') }, 'week');
    expect(b.map((x) => bucketLabel(x.fromMs, 'week'))).toEqual(['2026-W44', '2026-W45', '2026-W46', '2026-W47']);
    expect(iso(b[0]!.fromMs)).toBe('2026-11-01T00:00:00.000Z'); // a Sunday: the first step starts at from
    expect(iso(b.at(-1)!.toMs)).toBe('2026-11-21T09:00:00.000Z');
  });

  it('percent change: two decimals half away from zero, exact past 2^53, null when previous is 0', () => {
    expect(percentChange(150n, 100n)).toBe('50.00');
    expect(percentChange(1n, 3n)).toBe('-66.67');
    expect(percentChange(2n, 3n)).toBe('-33.33');
    expect(percentChange(100_005n, 100_000n)).toBe('0.01'); // 0.005 % rounds away from zero
    expect(percentChange(5n, 0n)).toBeNull();
    expect(percentChange(2n ** 70n + 2n ** 69n, 2n ** 70n)).toBe('50.00');
  });
});
