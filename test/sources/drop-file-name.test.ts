import { describe, expect, it } from 'vitest';
import { isIncompleteName, parseDropFileName, parseWindowStart } from '../../src/sources/drop-file-name';
import { inclusiveEndMs, splitWindow } from '../../src/sources/time-ranges';

describe('parseWindowStart', () => {
  it.each([
    ['2026-11-20T10:00:00Z', '2026-11-20T10:00:00.000Z'],
    ['2026-11-20T10:00Z', '2026-11-20T10:00:00.000Z'],
    ['2026-11-20T12:00:00+02:00', '2026-11-20T10:00:00.000Z'],
    ['2026-11-20T10:00:00.250Z', '2026-11-20T10:00:00.250Z'],
    ['20261120T100000Z', '2026-11-20T10:00:00.000Z'],
    ['20261120T1000Z', '2026-11-20T10:00:00.000Z'],
    ['2026-11-20T10-00-00Z', '2026-11-20T10:00:00.000Z'],
    ['1795168800', '2026-11-20T10:00:00.000Z'],
    ['1795168800000', '2026-11-20T10:00:00.000Z'],
    ['1795168800000000', '2026-11-20T10:00:00.000Z'],
    ['1795168800000000000', '2026-11-20T10:00:00.000Z'],
  ])('reads %s', (text, iso) => {
    expect(parseWindowStart(text)?.toISOString()).toBe(iso);
  });

  it.each(['2026-11-20T10:00:00', '2026-11-20', 'yesterday', '2026-13-40T10:00:00Z', '', '99999999999999999999'])(
    'refuses %j',
    (text) => {
      expect(parseWindowStart(text)).toBeNull();
    },
  );
});

describe('drop file names', () => {
  const pattern = /^(?<service>[^/]+)\/(?<start>[^/]+?)\.(?:pb\.gz|pb|pprof|pprof\.gz)$/;

  it('takes service and start from the default layout', () => {
    expect(parseDropFileName('checkout/2026-11-20T10:00:00Z.pb.gz', pattern)).toEqual({
      service: 'checkout',
      start: new Date('2026-11-20T10:00:00Z'),
      labels: {},
    });
    expect(parseDropFileName('checkout/nested/2026-11-20T10:00:00Z.pb.gz', pattern)).toBeNull();
    expect(parseDropFileName('checkout/not-a-time.pb.gz', pattern)).toBeNull();
  });

  it.each([
    ['checkout/x.pb.gz.tmp', true],
    ['checkout/.x.pb.gz.AbC123', true],
    ['.staging/x.pb.gz', false], // only the last component's leading dot marks a temporary file
    ['checkout/x.pb.gz.part', true],
    ['checkout/x.pb.gz~', true],
    ['checkout/x.pb.gz', false],
  ])('%s incomplete: %s', (path, incomplete) => {
    expect(isIncompleteName(path)).toBe(incomplete);
  });
});

describe('splitWindow', () => {
  const at = (iso: string) => new Date(iso);

  it('covers the window exactly with pieces of at most the limit', () => {
    const pieces = splitWindow({ start: at('2026-11-20T00:00:00Z'), end: at('2026-11-22T06:00:00Z') }, 24 * 3_600_000);
    expect(pieces.map((piece) => [piece.start.toISOString(), piece.end.toISOString()])).toEqual([
      ['2026-11-20T00:00:00.000Z', '2026-11-21T00:00:00.000Z'],
      ['2026-11-21T00:00:00.000Z', '2026-11-22T00:00:00.000Z'],
      ['2026-11-22T00:00:00.000Z', '2026-11-22T06:00:00.000Z'],
    ]);
    expect(
      splitWindow({ start: at('2026-11-20T00:00:00Z'), end: at('2026-11-20T01:00:00Z') }, 24 * 3_600_000),
    ).toHaveLength(1);
  });

  it('ends a query one millisecond before the next window starts', () => {
    expect(inclusiveEndMs({ start: at('2026-11-20T00:00:00Z'), end: at('2026-11-20T01:00:00Z') })).toBe(
      Date.parse('2026-11-20T00:59:59.999Z'),
    );
  });
});
