import { DURABLES } from '@app/messaging';
/** Injection token of the validated profile-sync config. */
export const PROFILE_SYNC_CONFIG = Symbol('profile-sync-config');

/** Durable name of the consumer that reads the events stream in order. */
export const EVENTS_CONSUMER = DURABLES.profileSync;
