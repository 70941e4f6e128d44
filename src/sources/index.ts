export type { FetchedProfile, ProfileSource, SourceKind, SourceLogger, TimeWindow } from './profile-source';
export { silentSourceLogger } from './profile-source';
export { createSource, createSources, type SourceFactoryDeps } from './source-factory';
export { sourceSettingsSchema, sourceSettingSchema, type SourceSetting } from './source-settings';
export { SourceHttpError, SourceUnavailableError } from './http-client';
export { MissingSecretError } from './http-auth';
export { splitWindow } from './time-ranges';
