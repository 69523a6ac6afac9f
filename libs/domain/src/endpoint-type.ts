/** The endpoint types of OMNI's API. */
export const EndpointType = {
  WEB_SOCKET: 'WEB_SOCKET',
  WEB_HOOK: 'WEB_HOOK',
} as const;
export type EndpointType = (typeof EndpointType)[keyof typeof EndpointType];
export const ENDPOINT_TYPES: readonly EndpointType[] = Object.values(EndpointType);
