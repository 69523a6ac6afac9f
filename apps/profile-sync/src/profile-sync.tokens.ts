/** Injection token of the validated profile-sync config. */
export const PROFILE_SYNC_CONFIG = Symbol('profile-sync-config');
