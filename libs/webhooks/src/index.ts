export { generateSecret, sign, signatureHeaders } from './signing.js';
export { assertPublicTarget, ForbiddenTargetError, guardedLookup, isAllowedAddress, parseAllowedNetworks, webhookNetworksVar } from './network-guard.js';
export { resolveSecretKeys, SecretBox, secretKeysEnv, type EndpointSecrets, type SecretKey } from './secret-box.js';
export { customHeaderNameProblem } from './custom-headers.js';
