/** Injection token of the validated gateway config. */
export const GATEWAY_CONFIG = Symbol('gateway-config');
