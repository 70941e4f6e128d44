import { describe, expect, it } from 'vitest';
import { ParamError } from '../../src/api/api-error';
import { functionName, groupBy, name, parseQuery, PERIOD_PARAMS, periodOf, wholeNumber } from '../../src/api/api-query';
import { RateLimiter } from '../../src/api/auth/rate-limiter';

const NOW = Date.parse('2026-11-25T15:20:00Z'); // a Wednesday

function paramOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    return error instanceof ParamError
      ? (JSON.parse(JSON.stringify(error.getResponse())) as { param: string }).param
      : 'not a ParamError';
  }
}

describe('periodOf', () => {
  it("resolves OpenCost's windows in UTC", () => {
    const of = (window: string) => {
      const p = periodOf({ window }, NOW);
      return [p.from.toISOString(), p.to.toISOString(), p.step];
    };
    expect(of('today')).toEqual(['2026-11-25T00:00:00.000Z', '2026-11-26T00:00:00.000Z', 'day']);
    expect(of('yesterday')).toEqual(['2026-11-24T00:00:00.000Z', '2026-11-25T00:00:00.000Z', 'day']);
    expect(of('week')).toEqual(['2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z', 'week']);
    expect(of('lastweek')).toEqual(['2026-11-16T00:00:00.000Z', '2026-11-23T00:00:00.000Z', 'week']);
    expect(of('7d')).toEqual(['2026-11-18T00:00:00.000Z', '2026-11-25T00:00:00.000Z', 'day']);
    expect(of('30d')).toEqual(['2026-10-26T00:00:00.000Z', '2026-11-25T00:00:00.000Z', 'day']);
    expect(of('2026-11-20T06:00:00Z,2026-11-20T09:00:00Z')).toEqual([
      '2026-11-20T06:00:00.000Z',
      '2026-11-20T09:00:00.000Z',
      'hour',
    ]);
  });

  it('names the parameter that is missing or in conflict', () => {
    expect(paramOf(() => periodOf({}, NOW))).toBe('from');
    expect(paramOf(() => periodOf({ from: new Date(NOW) }, NOW))).toBe('to');
    expect(paramOf(() => periodOf({ window: '7d', from: new Date(NOW) }, NOW))).toBe('window');
    expect(paramOf(() => parseQuery({ window: 'fortnight' }, PERIOD_PARAMS))).toBe('window');
  });
});

describe('parameter parsers', () => {
  it('accept names and function names as profiles write them, refuse injection and control characters', () => {
    for (const ok of ['checkout', 'team-a', 'k8s.io/api:v1', '__unowned__']) expect(name(ok, 'service')).toBe(ok);
    for (const bad of ["a'b", 'a b', '', 'a;b', 'x'.repeat(201)])
      expect(paramOf(() => name(bad, 'service'))).toBe('service');
    for (const ok of ['main.(*T).Run', 'std::vector<int>::push_back', '(anonymous) file.js:3', 'github.com/a/b.F[...]'])
      expect(functionName(ok, 'function')).toBe(ok);
    for (const bad of ["f'", 'a;b', 'a--b', 'a\\b', 'a\u0000b', 'a"b'])
      expect(paramOf(() => functionName(bad, 'function'))).toBe('function');
    expect(groupBy('label:k8s.namespace', 'groupBy')).toBe('label:k8s.namespace');
    expect(paramOf(() => groupBy('label:', 'groupBy'))).toBe('groupBy');
    expect(paramOf(() => wholeNumber(1, 10)('11', 'limit'))).toBe('limit');
    expect(paramOf(() => wholeNumber(1, 10)('1e1', 'limit'))).toBe('limit');
    expect(paramOf(() => parseQuery({ limit: ['1', '2'] }, { limit: wholeNumber(1, 10) }))).toBe('limit');
    expect(paramOf(() => parseQuery({ other: '1' }, { limit: wholeNumber(1, 10) }))).toBe('other');
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then one request per refill interval, and says how long to wait', () => {
    const limiter = new RateLimiter(60, 3); // one token a second
    expect([0, 0, 0, 0].map(() => limiter.take('k', 1_000))).toEqual([0, 0, 0, 1]);
    expect(limiter.take('other', 1_000)).toBe(0);
    expect(limiter.take('k', 1_500)).toBe(1);
    expect(limiter.take('k', 2_000)).toBe(0);
    expect(limiter.take('k', 2_000)).toBe(1);
    expect([0, 0, 0, 0].map(() => limiter.take('k', 100_000))).toEqual([0, 0, 0, 1]);
  });
});
