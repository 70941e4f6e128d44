import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildTeamReport,
  isoWeekOf,
  lastCompleteWeek,
  parseIsoWeek,
  perYear,
  weeksEndingWith,
  type ReportRow,
} from '../../../src/domain/report';

const row = (key: string, cost: bigint, previous: bigint): ReportRow => ({
  key,
  cost,
  previous,
  change: { amount: cost - previous, percent: null },
});

describe('ISO weeks', () => {
  it.each([
    ['2026-W49', '2026-11-30', '2026-12-07'],
    ['2026-W01', '2025-12-29', '2026-01-05'],
    ['2026-W53', '2026-12-28', '2027-01-04'],
    ['2020-W53', '2020-12-28', '2021-01-04'],
  ])('%s runs from %s to %s (UTC)', (label, from, to) => {
    expect(parseIsoWeek(label)).toEqual({
      label,
      fromMs: Date.parse(`${from}T00:00:00Z`),
      toMs: Date.parse(`${to}T00:00:00Z`),
    });
  });

  it('refuses what is not a week of that year', () => {
    for (const bad of ['2025-W53', '2026-W00', '2026-W54', '2026-49', 'W49', '2026-W4'])
      expect(parseIsoWeek(bad), bad).toBeNull();
  });

  it('the last complete week, and 12 weeks ending with it', () => {
    const now = Date.parse('2026-12-04T18:00:00Z'); // a Friday of W49
    expect(lastCompleteWeek(now).label).toBe('2026-W48');
    expect(isoWeekOf(now).label).toBe('2026-W49');
    const weeks = weeksEndingWith(parseIsoWeek('2026-W02')!, 12);
    expect(weeks.map((w) => w.label)).toEqual([
      '2025-W43',
      '2025-W44',
      '2025-W45',
      '2025-W46',
      '2025-W47',
      '2025-W48',
      '2025-W49',
      '2025-W50',
      '2025-W51',
      '2025-W52',
      '2026-W01',
      '2026-W02',
    ]);
  });
});

describe('the team report view', () => {
  it('states a week at its yearly rate exactly (× 365 / 7, half up)', () => {
    expect(perYear(7n)).toBe(365n);
    expect(perYear(1n)).toBe(52n); // 52.142...
    expect(perYear(2n)).toBe(104n); // 104.28...
    expect(perYear(10n)).toBe(521n); // 521.43
  });

  it('ranks movers by change, up and down, and leaves the regressions section out when none is tracked', () => {
    const services = [row('a', 100n, 50n), row('b', 10n, 40n), row('c', 30n, 30n), row('d', 80n, 20n)];
    const view = buildTeamReport({
      week: parseIsoWeek('2026-W48')!,
      partial: false,
      currency: 'USD',
      team: 'payments',
      total: { cost: 220n, previous: 140n, change: { amount: 80n, percent: '57.14' } },
      trend: [],
      services,
      topSelf: [],
      topInclusive: [],
      regressions: null,
      unownedServices: [],
      dashboardUrl: null,
    });
    expect(view.moversUp.map((m) => m.name)).toEqual(['d', 'a']);
    expect(view.moversDown.map((m) => m.name)).toEqual(['b']);
    expect(view.regressions).toBeNull();
    expect(view.services.map((s) => s.shareBp)).toEqual([4545, 454, 1363, 3636]);
    expect(view.subject).toBe('payments: $0.00 of compute in 2026-W48');
  });
});

describe('report templates', () => {
  it('never print a value unescaped (no triple-stash or {{& }} in reports/)', () => {
    const dir = path.resolve(__dirname, '../../../reports');
    const files = [
      ...readdirSync(dir).map((f) => path.join(dir, f)),
      ...readdirSync(path.join(dir, 'partials')).map((f) => path.join(dir, 'partials', f)),
    ].filter((f) => f.endsWith('.hbs'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) expect(readFileSync(file, 'utf8'), file).not.toMatch(/\{\{\{|\{\{&/);
  });
});
