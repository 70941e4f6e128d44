import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sourceSettingsSchema } from '../../src/sources/source-settings';

const EXAMPLE = `
- name: prod
  kind: pyroscope
  url: https://pyroscope.internal:4040
  tenantId: payments
  auth: { type: bearer, tokenEnv: PYROSCOPE_TOKEN }
- name: parca
  kind: parca
  url: http://parca:7070
- name: demo
  kind: directory
  path: demo/profiles
- name: go-fleet
  kind: pprof-http
  services:
    checkout: [http://10.0.0.5:6060/debug/pprof/profile]
`;

/** The first issue as "path: message", the way the settings loader reports it. */
function firstIssue(input: unknown): string {
  const result = sourceSettingsSchema.safeParse(input);
  if (result.success) return 'valid';
  const issue = result.error.issues[0]!;
  return `${issue.path.join('.')}: ${issue.message}`;
}

describe('sourceSettingsSchema', () => {
  it('accepts the documented example and fills the defaults', () => {
    const sources = sourceSettingsSchema.parse(parse(EXAMPLE));

    expect(sources.map((source) => `${source.name}:${source.kind}`)).toEqual([
      'prod:pyroscope',
      'parca:parca',
      'demo:directory',
      'go-fleet:pprof-http',
    ]);
    expect(sources[0]).toMatchObject({
      serviceLabel: 'service_name',
      maxQueryLengthHours: 24,
      maxQueryLookbackDays: 7,
      http: { timeoutSeconds: 30, maxAttempts: 4, backoffBaseMs: 500, backoffMaxMs: 10_000 },
    });
    expect(sources[1]).toMatchObject({
      profileType: 'parca_agent:samples:count:cpu:nanoseconds:delta',
      serviceLabel: 'job',
    });
    expect(sources[2]).toMatchObject({ windowMinutes: 60, minAgeSeconds: 10 });
    expect(sources[3]).toMatchObject({ seconds: 10, timeoutSlackSeconds: 10 });
    expect(sourceSettingsSchema.parse(undefined)).toEqual([]);
  });

  it('rejects a secret written into the file instead of an environment variable name', () => {
    expect(
      firstIssue([{ name: 'p', kind: 'pyroscope', url: 'http://p', auth: { type: 'bearer', token: 'abc' } }]),
    ).toBe('0.auth.tokenEnv: Invalid input: expected string, received undefined');
    expect(firstIssue([{ name: 'p', kind: 'pyroscope', url: 'http://p', password: 'abc' }])).toBe(
      '0: Unrecognized key: "password"',
    );
  });

  it('rejects duplicate names, unknown kinds and non-HTTP URLs with the path of the culprit', () => {
    const twice = { name: 'same', kind: 'directory', path: '/drop' };
    expect(firstIssue([twice, twice])).toBe('1.name: duplicate source name "same" (also used by sources[0])');
    expect(firstIssue([{ name: 'x', kind: 'jaeger' }])).toMatch(/^0.kind: /);
    expect(firstIssue([{ name: 'x', kind: 'parca', url: 'ftp://parca' }])).toBe(
      '0.url: expected an http:// or https:// URL',
    );
    expect(firstIssue([{ name: 'x', kind: 'pyroscope', url: 'http://p', profileTypeId: 'cpu' }])).toBe(
      '0.profileTypeId: expected <name>:<type>:<unit>:<period type>:<period unit>',
    );
  });

  it('requires the service and start groups in a directory pattern', () => {
    expect(firstIssue([{ name: 'd', kind: 'directory', path: '/d', pattern: '^(?<service>.+)\\.pb$' }])).toBe(
      '0.pattern: expected a regular expression with named groups (?<service>...) and (?<start>...)',
    );
    expect(firstIssue([{ name: 'd', kind: 'directory', path: '/d', pattern: '(?<service>[' }])).toMatch(/^0.pattern: /);
  });
});
