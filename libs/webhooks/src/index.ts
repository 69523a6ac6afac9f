export { generateSecret, sign, signatureHeaders } from './signing.js';
export { assertPublicTarget, ForbiddenTargetError, guardedLookup, isAllowedAddress, parseAllowedNetworks, webhookNetworksVar } from './network-guard.js';
export { configSecretKeyEnv, resolveConfigSecretKey, SecretBox, type EndpointSecrets } from './secret-box.js';
