/** Injection token of the validated dispatcher config. */
export const DISPATCHER_CONFIG = Symbol('dispatcher-config');
