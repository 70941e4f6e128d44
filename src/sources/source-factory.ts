import { resolve } from 'node:path';
import { DirectorySource } from './directory.source';
import { authorizationHeader } from './http-auth';
import { SourceHttpClient, type HttpClientDeps } from './http-client';
import { ParcaSource } from './parca.source';
import { PprofHttpSource } from './pprof-http.source';
import type { ProfileSource, SourceLogger } from './profile-source';
import { PyroscopeSource } from './pyroscope.source';
import type { HttpSettings, SourceSetting } from './source-settings';

/** What building sources needs; everything but the logger has a production default. */
export interface SourceFactoryDeps {
  readonly logger: SourceLogger;
  /** Where auth secrets are read from (default: `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base for relative directory paths (default: the working directory). */
  readonly cwd?: string;
  readonly now?: () => Date;
  /** Backoff sleep and jitter, replaceable in tests. */
  readonly sleep?: HttpClientDeps['sleep'];
  readonly random?: HttpClientDeps['random'];
}

const USER_AGENT = 'flamebill';

/**
 * Builds the configured sources, in settings order. Fails at once, naming the source, when a secret
 * its auth settings name is missing from the environment.
 */
export function createSources(settings: readonly SourceSetting[], deps: SourceFactoryDeps): ProfileSource[] {
  return settings.map((setting) => createSource(setting, deps));
}

/** Builds one source from its settings. */
export function createSource(setting: SourceSetting, deps: SourceFactoryDeps): ProfileSource {
  const env = deps.env ?? process.env;
  const now = deps.now ?? (() => new Date());
  const http = (httpSettings: HttpSettings, headers: Record<string, string>): SourceHttpClient =>
    new SourceHttpClient(setting.name, httpSettings, { 'user-agent': USER_AGENT, ...headers }, deps);
  switch (setting.kind) {
    case 'pyroscope': {
      const tenant: Record<string, string> =
        setting.tenantId === undefined ? {} : { 'x-scope-orgid': setting.tenantId };
      return new PyroscopeSource(
        setting,
        http(setting.http, { ...tenant, ...authorizationHeader(setting.auth, env, setting.name) }),
        { now },
      );
    }
    case 'parca':
      return new ParcaSource(setting, http(setting.http, authorizationHeader(setting.auth, env, setting.name)));
    case 'directory':
      return new DirectorySource(setting, resolve(deps.cwd ?? process.cwd(), setting.path), {
        logger: deps.logger,
        now,
      });
    case 'pprof-http':
      return new PprofHttpSource(setting, http(setting.http, authorizationHeader(setting.auth, env, setting.name)), {
        logger: deps.logger,
        now,
      });
  }
}
