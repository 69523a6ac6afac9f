export { generateSecret, isSecret, sign, signatureHeaders } from './signing.js';
export { assertPublicTarget, ForbiddenTargetError, guardedLookup, isAllowedAddress, parseAllowedNetworks } from './network-guard.js';
