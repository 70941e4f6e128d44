import type { HttpAuthSettings } from './source-settings';

/** A required secret is missing from the environment; names the source and the variable, never a value. */
export class MissingSecretError extends Error {
  override readonly name = 'MissingSecretError';
}

/**
 * The Authorization header for a source's auth settings, reading the secrets from `env` (the process
 * environment in production). Throws {@link MissingSecretError} when a named variable is unset or empty,
 * so a misconfigured source fails at start instead of at its first pull.
 */
export function authorizationHeader(
  auth: HttpAuthSettings | undefined,
  env: Readonly<Record<string, string | undefined>>,
  sourceName: string,
): Record<string, string> {
  if (auth === undefined) return {};
  const read = (variable: string): string => {
    const value = env[variable];
    if (value === undefined || value === '') {
      throw new MissingSecretError(
        `source "${sourceName}": environment variable ${variable} is not set (named by its auth settings)`,
      );
    }
    return value;
  };
  if (auth.type === 'bearer') return { authorization: `Bearer ${read(auth.tokenEnv)}` };
  const credentials = Buffer.from(`${read(auth.usernameEnv)}:${read(auth.passwordEnv)}`, 'utf8').toString('base64');
  return { authorization: `Basic ${credentials}` };
}
