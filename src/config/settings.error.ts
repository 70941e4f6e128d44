/**
 * A setting is wrong. The message is one line that names the setting (environment variable, or
 * settings key with `file:line:column`) and the problem; the CLI prints it as is and exits non-zero.
 */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';

  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, ' '));
  }
}
