import { describe, expect, it } from 'vitest';
import { IngestRequestError, parseIngestRange, parseIngestTime, windowOf } from '../../src/domain/ingest';

// Pyroscope's pkg/og/util/attime/attime_test.go: now = 1577836800 (2020-01-01T00:00:00Z).
const NOW = 1_577_836_800_000;

describe('parseIngestTime (Pyroscope attime.Parse rules)', () => {
  it.each([
    ['now', NOW],
    ['now-1s', NOW - 1000],
    ['now+1s', NOW + 1000],
    ['now-1min', NOW - 60_000],
    ['now-1h', NOW - 3_600_000],
    ['now-1d', NOW - 86_400_000],
    ['now-1w', NOW - 7 * 86_400_000],
    ['now-1mon', NOW - 30 * 86_400_000],
    ['now-1M', NOW - 30 * 86_400_000],
    ['now-1y', NOW - 365 * 86_400_000],
    ['now-1', NOW],
    ['now-1h30min', NOW - 5_400_000],
    ['20200101', 1_577_836_800_000],
    ['1577836800', 1_577_836_800_000], // 10 digits: seconds
    ['1577836800001', 1_577_836_800_001], // 13: ms
    ['1577836800000001', 1_577_836_800_000], // 16: µs
    ['1577836800000000001', 1_577_836_800_000], // 19: ns
    ['1_577_836_800', 1_577_836_800_000], // separators removed
    ['1,577,836,800', 1_577_836_800_000],
    ['20230231', 20_230_231_000], // not a date: seconds, as Go's time.Parse fails
    ['12', 12_000],
    ['', NOW],
  ])('%s', (raw, expected) => {
    expect(parseIngestTime(raw, 'from', NOW)).toBe(expected);
  });

  it('absent means now', () => {
    expect(parseIngestTime(undefined, 'from', NOW)).toBe(NOW);
  });

  it.each(['yesterday', '2020-01-01T00:00:00Z', '1.5', '-100', 'now*2'])('rejects %s with the field name', (raw) => {
    expect(() => parseIngestTime(raw, 'until', NOW)).toThrow(IngestRequestError);
    expect(() => parseIngestTime(raw, 'until', NOW)).toThrow(/^until: expected a Unix time/);
  });

  it('rejects until before from', () => {
    expect(() => parseIngestRange('1577836810', '1577836800', NOW)).toThrow(
      'until: 2020-01-01T00:00:00.000Z is before from 2020-01-01T00:00:10.000Z',
    );
    expect(parseIngestRange('1577836800', '1577836810000', NOW)).toEqual({ fromMs: NOW, untilMs: NOW + 10_000 });
  });
});

describe('windowOf', () => {
  it.each([
    [Date.parse('2026-11-22T03:59:59.999Z'), 3600, '2026-11-22T03:00:00.000Z', '2026-11-22T04:00:00.000Z'],
    [Date.parse('2026-11-22T04:00:00.000Z'), 3600, '2026-11-22T04:00:00.000Z', '2026-11-22T05:00:00.000Z'],
    [Date.parse('2026-11-22T04:17:00.000Z'), 900, '2026-11-22T04:15:00.000Z', '2026-11-22T04:30:00.000Z'],
    [Date.parse('2026-11-22T23:59:00.000Z'), 86400, '2026-11-22T00:00:00.000Z', '2026-11-23T00:00:00.000Z'],
    [Date.parse('1969-12-31T23:30:00.000Z'), 3600, '1969-12-31T23:00:00.000Z', '1970-01-01T00:00:00.000Z'],
  ])('%s / %ss', (ms, size, start, end) => {
    const w = windowOf(ms, size);
    expect(w.start.toISOString()).toBe(start);
    expect(w.end.toISOString()).toBe(end);
  });
});
