import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  ANONYMOUS_TENANT,
  IngestAuthenticator,
  IngestAuthError,
  IngestTokenMissingError,
} from '../../src/ingest/ingest-auth';
import { ingestSettingsSchema } from '../../src/config/ingest-settings';

describe('ingestSettingsSchema', () => {
  it('has the documented defaults', () => {
    expect(ingestSettingsSchema.parse(undefined)).toEqual({
      maxBodyBytes: 32 * 1024 * 1024,
      maxInflatedBytes: 256 * 1024 * 1024,
      windowSeconds: 3600,
      countWallAsCpu: false,
      tenants: [],
      rateLimit: { bytesPerSecond: 64 * 1024 * 1024, burstBytes: 128 * 1024 * 1024 },
      maxConcurrentRequests: 64,
      workers: availableParallelism(),
      inlineFoldMaxBytes: 16 * 1024,
      insertBatch: { maxRows: 64, maxBytes: 16 * 1024 * 1024, writers: 2 },
      keepRaw: true,
    });
  });

  it.each([
    [{ windowSeconds: 7000 }, 'windowSeconds', 'must divide 86400'],
    [
      { maxBodyBytes: 10_000_000, rateLimit: { burstBytes: 5_000_000 } },
      'rateLimit.burstBytes',
      'at least maxBodyBytes',
    ],
    [
      {
        tenants: [
          { name: 'a', tokenEnv: 'A' },
          { name: 'a', tokenEnv: 'B' },
        ],
      },
      'tenants',
      'unique',
    ],
    [{ tenants: [{ name: 'a', tokenEnv: 'not a var' }] }, 'tenants.0.tokenEnv', 'environment variable name'],
    [{ maxBodyBytes: 1024, typo: true }, '', 'Unrecognized key'],
    [{ workers: -1 }, 'workers', 'expected number to be >=0'],
    [{ insertBatch: { maxRows: 0 } }, 'insertBatch.maxRows', 'expected number to be >=1'],
  ])('rejects %j', (input, path, message) => {
    const result = ingestSettingsSchema.safeParse(input);
    expect(result.success).toBe(false);
    const issue = result.error!.issues[0]!;
    expect(issue.path.join('.')).toBe(path);
    expect(issue.message).toContain(message);
  });
});

describe('IngestAuthenticator', () => {
  const tenants = [
    { name: 'team-a', tokenEnv: 'TOKEN_A' },
    { name: 'team-b', tokenEnv: 'TOKEN_B' },
  ];
  const auth = new IngestAuthenticator({ tenants }, { TOKEN_A: 'alpha', TOKEN_B: 'beta' });

  it('finds the tenant of a bearer or basic token', () => {
    expect(auth.authenticate('Bearer alpha')).toBe('team-a');
    expect(auth.authenticate('bearer beta')).toBe('team-b');
    expect(auth.authenticate(`Basic ${Buffer.from('123:beta').toString('base64')}`)).toBe('team-b');
  });

  it.each([undefined, '', 'Bearer', 'Bearer gamma', 'Token alpha', `Basic ${Buffer.from('alpha').toString('base64')}`])(
    'refuses %s',
    (header) => {
      expect(() => auth.authenticate(header)).toThrow(IngestAuthError);
    },
  );

  it('is off without tenants, and refuses to start with a missing token variable', () => {
    expect(new IngestAuthenticator({ tenants: [] }, {}).authenticate(undefined)).toBe(ANONYMOUS_TENANT);
    expect(() => new IngestAuthenticator({ tenants }, { TOKEN_A: 'alpha' })).toThrow(IngestTokenMissingError);
    expect(() => new IngestAuthenticator({ tenants }, { TOKEN_A: 'alpha' })).toThrow(
      'ingest.tenants: tenant team-b: environment variable TOKEN_B is not set or empty',
    );
  });
});
