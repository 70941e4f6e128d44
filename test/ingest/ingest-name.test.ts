import { describe, expect, it } from 'vitest';
import { canonicalIngestName, IngestRequestError, parseIngestName, resolveIngestSeries } from '../../src/domain/ingest';

// Cases from Pyroscope's api/model/labelset/labelset_test.go and its parser's behaviour (see ingest-name.ts).
describe('parseIngestName (Pyroscope labelset.Parse rules)', () => {
  it.each([
    ['foo', 'foo', {}],
    ['foo{bar=1,baz=2}', 'foo', { bar: '1', baz: '2' }],
    [' foo { bar = 1 , baz = 2 } ', 'foo', { bar: '1', baz: '2' }],
    ['my.awesome.app.cpu{env=staging,region=us-west-1}', 'my.awesome.app.cpu', { env: 'staging', region: 'us-west-1' }],
    ['foo{}', 'foo', {}],
    ['foo{a=}', 'foo', { a: '' }],
    ['foo{a=b=c}', 'foo', { a: 'b=c' }],
    ['foo{a=1,a=2}', 'foo', { a: '2' }],
    ['foo{a=1', 'foo', {}], // a pair never closed is dropped
    ['foo{a=1,}', 'foo', { a: '1' }],
    ['foo{a=1}b=2}', 'foo', { a: '1', b: '2' }], // Pyroscope reads keys again after a closing brace
    ['foo{a=1}trailing', 'foo', { a: '1' }],
    ['k8s/ns-1/shop', 'k8s/ns-1/shop', {}],
    ['foo{__name__=bar}', 'bar', {}],
    [
      'shop{otel.scope.name=x,process.runtime.name=nodejs,env=test,version=v1}',
      'shop',
      { 'otel.scope.name': 'x', 'process.runtime.name': 'nodejs', env: 'test', version: 'v1' },
    ],
  ])('%s', (raw, appName, labels) => {
    const parsed = parseIngestName(raw);
    expect(parsed.appName).toBe(appName);
    expect({ ...parsed.labels }).toEqual(labels);
  });

  it.each([
    [undefined, 'name: service name is required'],
    ['', 'name: service name is required'],
    ['{a=1}', 'name: service name is required'],
    ['my app', 'name: invalid service name: my app: character is not allowed: " "'],
    ['app{a-b=1}', 'name: invalid label name: a-b: character is not allowed: "-"'],
    ['app{=1}', 'name: label name is required'],
    ['app{,a=1}', 'name: invalid label name: ,a: character is not allowed: ","'],
    ['foo{__name__=b@d}', 'name: invalid service name: b@d: character is not allowed: "@"'],
  ])('rejects %s', (raw, message) => {
    expect(() => parseIngestName(raw)).toThrow(IngestRequestError);
    expect(() => parseIngestName(raw)).toThrow(message);
  });

  it('bounds labels', () => {
    const many = Array.from({ length: 65 }, (_, i) => `k${i}=v`).join(',');
    expect(() => parseIngestName(`app{${many}}`)).toThrow('too many labels: 65');
    expect(() => parseIngestName(`app{k=${'x'.repeat(2049)}}`)).toThrow('value of label k longer than 2048');
  });

  it('canonical name sorts labels (Pyroscope Normalized)', () => {
    expect(canonicalIngestName(parseIngestName('foo'))).toBe('foo{}');
    expect(canonicalIngestName(parseIngestName('foo{baz=1,bar=2}'))).toBe('foo{bar=2,baz=1}');
  });
});

describe('resolveIngestSeries', () => {
  const series = (raw: string, typing: 'from-name' | 'self-describing') =>
    resolveIngestSeries(parseIngestName(raw), typing);

  it.each([
    // [name, typing, service, suffix]
    ['app.cpu{env=prod}', 'from-name', 'app', 'cpu'],
    ['app', 'from-name', 'app', 'cpu'], // Pyroscope: no dot means cpu
    ['my.awesome.app.cpu', 'from-name', 'my.awesome.app', 'cpu'],
    ['app.wall', 'from-name', 'app', 'wall'],
    ['app.inuse_space', 'from-name', 'app', 'inuse_space'],
    ['app.itimer', 'from-name', 'app', 'itimer'],
    ['shop', 'self-describing', 'shop', null], // what the Node agent sends
    ['app.cpu', 'self-describing', 'app', 'cpu'], // stripped for pprof too, so app and app.cpu are one service
    ['my.app', 'self-describing', 'my.app', null], // unknown last part stays for pprof
  ] as const)('%s (%s) -> %s', (raw, typing, service, suffix) => {
    const s = series(raw, typing);
    expect(s.service).toBe(service);
    expect(s.nameSuffix).toBe(suffix);
  });

  it('rejects an unknown profile type for text formats, as Pyroscope', () => {
    expect(() => series('my.app', 'from-name')).toThrow('name: unknown profile type: app');
    expect(() => series('.cpu', 'from-name')).toThrow('service name is required');
  });

  it('service_name label wins and the app name is kept as app_name', () => {
    expect(series('app.cpu{service_name=checkout,env=prod}', 'from-name')).toEqual({
      service: 'checkout',
      nameSuffix: 'cpu',
      seriesLabels: { app_name: 'app', env: 'prod', service_name: 'checkout' },
    });
    expect(series('app{service_name=checkout,app_name=given}', 'self-describing').seriesLabels).toEqual({
      app_name: 'given',
      service_name: 'checkout',
    });
    // An empty service_name does not win.
    expect(series('app{service_name=}', 'self-describing').service).toBe('app');
  });

  it('drops Pyroscope-private labels', () => {
    expect(series('app{__session_id__=1,env=a}', 'self-describing').seriesLabels).toEqual({ env: 'a' });
  });
});
