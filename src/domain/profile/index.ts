export { foldProfile } from './fold-profile';
export { ProfileDecodeError } from './profile-decode.error';
export type { DecodeErrorFormat } from './profile-decode.error';
export type * from './profile.types';
