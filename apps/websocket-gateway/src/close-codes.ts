/**
 * Close codes the gateway uses (4000–4999 is the application range). Each
 * close also carries a reason text. Documented in docs/websocket.md.
 */
export const CloseCode = {
  /** endpoint_id missing or not a UUID. */
  badRequest: 4400,
  /** The endpoint requires a connection token: none was offered, it is not valid, or the endpoint's access changed. */
  tokenRequired: 4401,
  /** The browser's Origin is not one the endpoint allows. */
  originNotAllowed: 4403,
  /** The endpoint has as many connections on this replica as it allows. */
  tooManyConnections: 4429,
  /** No endpoint has this id. */
  unknownEndpoint: 4404,
  /** The endpoint exists but is a webhook. */
  notWebsocketEndpoint: 4409,
  /** The endpoint was deleted while the client was connected. */
  endpointDeleted: 4410,
  /** last_event_id names no delivery of this endpoint that the stream still holds (never routed here, or aged out). */
  cannotResume: 4416,
  /** The client did not read its events fast enough. */
  tooSlow: 4008,
  /** The gateway's config is not loaded yet (the api has not published it); reconnect. */
  tryAgainLater: 1013,
  /** The gateway is stopping: reconnect (to another replica); a client that resumes misses nothing. */
  serviceRestart: 1012,
  /** The client did not answer the last ping in time (its connection is presumed dead). */
  pingTimeout: 4002,
} as const;
