import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { WebSocket, WebSocketServer as WsServer } from 'ws';
import { listenHost } from '@app/config';
import { HealthServer } from '@app/runtime';
import { idKey } from '@app/events';
import { readsEndpoint } from '@app/domain';
import { AccessTokens, ConfigView, EndpointType, hashToken, namedTokenIdOf, TokenView, type EndpointView } from '@app/messaging';
import { ClientRegistry } from './client-registry.js';
import { DeliveryFeed } from './delivery-feed.js';
import { Resumer, type ResumePoint } from './resumer.js';
import { clientAddressOf, CountedSlots } from './upgrade-caps.js';
import { CloseCode } from './close-codes.js';
import type { GatewayConfig } from './gateway.config.js';
import { GATEWAY_CONFIG } from './gateway.tokens.js';

/** The largest frame a client may send (documented in docs/websocket.md). */
export const MAX_INBOUND_FRAME_BYTES = 4_096;

export const WEBSOCKET_PATH = '/event-service/ws';
/** How long a client closed for a missed ping has to answer the close before it is dropped. */
const PING_CLOSE_GRACE_MS = 5_000;
/** The accept queue asked for: the kernel caps it at net.core.somaxconn. */
const LISTEN_BACKLOG = 65_535;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The subprotocol the gateway speaks; a browser offers its token beside it as `bearer.<token>`. */
const SUBPROTOCOL = 'event-service';

/** The connection token offered: a `bearer.<token>` subprotocol (browsers), or the `token` query parameter. */
function offeredToken(request: IncomingMessage, query: URLSearchParams): string | null {
  const protocols = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((protocol) => protocol.trim());
  const bearer = protocols.find((protocol) => protocol.startsWith('bearer.'));
  return bearer ? bearer.slice('bearer.'.length) : query.get('token');
}

/** An RFC 3339 time (with its offset), or null. */
function parseRfc3339(text: string): Date | null {
  // An offset's `+` written unencoded in a URL reads as a space.
  text = text.replace(/ (\d{2}:\d{2})$/, '+$1');
  if (!RFC_3339.test(text)) return null;
  const time = new Date(text.replace(' ', 'T'));
  return Number.isNaN(time.getTime()) ? null : time;
}

type Admission = { ok: true; endpoint: EndpointView; resumeFrom: ResumePoint | null } | { ok: false; code: number; reason: string };
type Refusal = { ok: false; code: number; reason: string };

/** What a client was admitted with: a change of the endpoint's access, or a revoked token, is checked against it. */
interface Credentials {
  origin: string | undefined;
  token: string | null;
  /** The named API token that admitted it, if one did. */
  tokenId: string | null;
}
const refuse = (code: number, reason: string): Refusal => ({ ok: false, code, reason });

/** `ws://HOST/event-service/ws?endpoint_id=<id>`: integrators' websocket connections. */
@Injectable()
export class WebsocketServer implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(WebsocketServer.name);
  private readonly http: Server;
  // Clients have nothing to say but pongs: a larger frame closes the connection with 1009.
  // A browser sends its connection token as a subprotocol (`bearer.<token>`) beside `event-service`, which is the one chosen.
  private readonly sockets = new WsServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_INBOUND_FRAME_BYTES,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  private readonly credentials = new WeakMap<WebSocket, Credentials>();
  private readonly alive = new WeakSet<WebSocket>();
  private pingTimer: NodeJS.Timeout | null = null;
  private draining = false;
  /** Connections held or being admitted, per client address and in all (WS_MAX_CONNECTIONS_PER_ADDRESS, WS_MAX_CONNECTIONS). */
  private readonly connections: CountedSlots;
  /** Clients catching up from history now (WS_MAX_RESUMES). */
  private resuming = 0;
  port = 0;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly settings: GatewayConfig,
    private readonly config: ConfigView,
    private readonly clients: ClientRegistry,
    private readonly resumer: Resumer,
    private readonly feed: DeliveryFeed,
    private readonly tokens: AccessTokens,
    private readonly tokenView: TokenView,
    private readonly health: HealthServer,
  ) {
    this.http = createServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain' }).end(`connect with a websocket to ${WEBSOCKET_PATH}?endpoint_id=<id>\n`);
    });
    this.http.on('upgrade', (request, socket, head) => void this.upgrade(request, socket, head));
    this.connections = new CountedSlots(settings.WS_MAX_CONNECTIONS_PER_ADDRESS, settings.WS_MAX_CONNECTIONS);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.config.onChange((change) => {
      if (change.kind === 'endpoint-removed') {
        this.clients.closeEndpoint(change.endpointId, CloseCode.endpointDeleted, 'endpoint deleted');
      }
      // Access tightened: nobody stays on the strength of what no longer holds; the others stay.
      if (change.kind === 'endpoint-upserted' && change.endpoint.type === EndpointType.WEB_SOCKET) this.recheckClients(change.endpoint);
    });
    // The endpoint's own token rotated or removed (the tokens bucket: the config bucket's readers never see it).
    this.tokenView.onConnectionTokenChanged((endpointId) => {
      const endpoint = this.config.endpoint(endpointId);
      if (endpoint) this.recheckClients(endpoint);
    });
    this.tokenView.onRevoked((tokenId) => {
      for (const socket of this.sockets.clients) {
        if (this.credentials.get(socket)?.tokenId === tokenId) socket.close(CloseCode.tokenRequired, 'the connection token was revoked');
      }
    });
    this.pingTimer = setInterval(() => this.pingAll(), this.settings.WS_PING_INTERVAL);
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      // A reconnect wave (a drained replica's clients, a network blip) arrives at once: connections wait in the
      // kernel's accept queue while the event loop is busy, and one that finds it full is reset. Node asks for 511;
      // this asks for the most the kernel allows (net.core.somaxconn, 4096 by default on Linux 5.4 and later).
      this.http.listen({ port: this.settings.GATEWAY_PORT, host: listenHost(this.settings), backlog: LISTEN_BACKLOG }, () => resolve());
    });
    this.port = (this.http.address() as AddressInfo).port;
    this.logger.log(`websocket gateway listening on port ${this.port}`);
  }

  /**
   * The drain: no new client is taken, and the connected ones are closed
   * with 1012 (reconnect) in even steps over WS_DRAIN_GRACE, each still
   * receiving its events until its turn; they resume on another replica.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.draining = true;
    this.health.addCheck('accepting', () => false);
    const clients = [...this.sockets.clients];
    const steps = Math.min(clients.length, 20);
    if (steps === 0) return;
    this.logger.log(`draining ${clients.length} clients over ${this.settings.WS_DRAIN_GRACE} ms`);
    const perStep = Math.ceil(clients.length / steps);
    for (let step = 0; step < steps; step += 1) {
      for (const client of clients.slice(step * perStep, (step + 1) * perStep)) client.close(CloseCode.serviceRestart, 'gateway restarting; reconnect');
      if (step < steps - 1) await sleep(this.settings.WS_DRAIN_GRACE / steps);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.clients.closeAll(CloseCode.serviceRestart, 'gateway restarting; reconnect');
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = URL.parse(request.url ?? '/', 'http://gateway');
    if (url?.pathname !== WEBSOCKET_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    // Counted before anything is looked up: a flood from one address, or in all, costs no more than this.
    const address = clientAddressOf(request, this.settings.WS_CLIENT_ADDRESS_HEADER);
    const full = this.connections.take(address);
    // Given back when the connection ends, whatever ends it (a refusal, a failed handshake, the client leaving).
    if (!full) socket.once('close', () => this.connections.release(address));
    let admission: Admission;
    try {
      admission = this.draining
        ? { ok: false, code: CloseCode.serviceRestart, reason: 'gateway restarting; reconnect' }
        : full === 'all'
          ? { ok: false, code: CloseCode.tryAgainLater, reason: 'this gateway holds all the connections it may; reconnect' }
          : full === 'key'
            ? { ok: false, code: CloseCode.tooManyConnections, reason: 'too many connections from this address' }
            : await this.admit(url.searchParams, request);
    } catch (error) {
      this.logger.warn(`cannot check endpoint: ${(error as Error).message}`);
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n\r\n');
      return;
    }
    // An admitted client's endpoint feed is open (admit): released when the client leaves, or if the handshake never completes.
    let handedOver = !admission.ok;
    if (admission.ok) {
      const endpointKey = admission.endpoint.id;
      // Gone while it was admitted: no close will come, nor a client.
      if (socket.destroyed) return void this.feed.release(endpointKey);
      socket.once('close', () => {
        if (!handedOver) this.feed.release(endpointKey);
      });
    }
    // Refusals are made after the upgrade, as a close code with a reason,
    // because a browser's WebSocket cannot read an HTTP error status.
    this.sockets.handleUpgrade(request, socket, head, (client) => {
      if (!admission.ok) {
        client.close(admission.code, admission.reason);
        return;
      }
      handedOver = true;
      const feedKey = admission.endpoint.id;
      client.once('close', () => this.feed.release(feedKey));
      // Checked again now, in the tick the client joins: the endpoint may have been deleted, its access
      // changed, or others taken the last place under the cap while the history position was looked up.
      const endpointId = admission.endpoint.id;
      const current = this.config.endpoint(endpointId) ?? (this.config.healthy ? undefined : admission.endpoint);
      if (!current) return void client.close(CloseCode.endpointDeleted, 'endpoint deleted');
      const origin = request.headers.origin;
      const token = offeredToken(request, url.searchParams);
      const refused = this.refusedAccess(current, origin, token, { counting: true });
      if (refused) return void client.close(refused.code, refused.reason);
      const { resumeFrom } = admission;
      if (resumeFrom && this.resuming >= this.settings.WS_MAX_RESUMES) {
        return void client.close(CloseCode.tryAgainLater, 'too many clients are catching up on this gateway; reconnect');
      }
      this.credentials.set(client, { origin, token, tokenId: token === null ? null : this.namedTokenOf(current, token) });
      this.alive.add(client);
      client.on('pong', () => this.alive.add(client));
      client.on('error', (error) => this.logger.debug?.(`client error: ${error.message}`));
      if (!resumeFrom) return this.clients.add(endpointId, client);
      this.clients.addCatchingUp(endpointId, client);
      this.resuming += 1;
      this.resumer
        .catchUp(client, endpointId, resumeFrom)
        .catch((error: Error) => {
          // Never half a history: the client reconnects and resumes again.
          this.logger.warn(`a client of ${endpointId} could not catch up: ${error.message}`);
          client.close(CloseCode.tryAgainLater, 'cannot read the history now; reconnect');
        })
        .finally(() => (this.resuming -= 1));
    });
  }

  private async admit(query: URLSearchParams, request: IncomingMessage): Promise<Admission> {
    const endpointId = query.get('endpoint_id');
    if (!endpointId) return refuse(CloseCode.badRequest, 'endpoint_id query parameter is required');
    if (!UUID.test(endpointId)) return refuse(CloseCode.badRequest, 'endpoint_id must be a UUID');
    const lastEventId = query.get('last_event_id');
    const since = query.get('since');
    if (lastEventId !== null && since !== null) return refuse(CloseCode.badRequest, 'last_event_id and since cannot be given together');
    if (lastEventId !== null && !UUID.test(lastEventId)) return refuse(CloseCode.badRequest, 'last_event_id must be a UUID (an event.id)');
    const sinceTime = since === null ? null : parseRfc3339(since);
    if (since !== null && sinceTime === null) return refuse(CloseCode.badRequest, 'since must be an RFC 3339 time, e.g. 2026-05-29T10:48:27Z');
    // The view and the delivery subjects hold the id's key: any spelling finds the endpoint. The view alone is asked
    // (the api returns a new endpoint once every gateway holds it): an unknown id costs no NATS request.
    const key = idKey(endpointId);
    const endpoint = this.config.endpoint(key);
    if (!endpoint && !this.config.healthy) {
      // Not in a view that is not loaded yet is not "unknown".
      return { ok: false, code: CloseCode.tryAgainLater, reason: 'the gateway is starting; reconnect' };
    }
    if (!endpoint) {
      return { ok: false, code: CloseCode.unknownEndpoint, reason: 'unknown endpoint_id' };
    }
    if (endpoint.type !== EndpointType.WEB_SOCKET) {
      return { ok: false, code: CloseCode.notWebsocketEndpoint, reason: 'endpoint is not a websocket endpoint' };
    }
    // Before the history is looked up: a client that may not connect learns nothing of it.
    const refused = this.refusedAccess(endpoint, request.headers.origin, offeredToken(request, query), { counting: true });
    if (refused) return refused;
    let resumeFrom: ResumePoint | null = sinceTime ? { since: sinceTime.toISOString() } : null;
    if (lastEventId !== null) {
      resumeFrom = await this.resumer.afterEvent(key, idKey(lastEventId));
      if (!resumeFrom) return refuse(CloseCode.cannotResume, 'cannot resume: last_event_id was never delivered to this endpoint, or has aged out; reconnect without it, or with since');
    }
    // Before the handshake completes: everything stored from now on reaches the client.
    await this.feed.open(endpoint.id);
    return { ok: true, endpoint, resumeFrom };
  }

  /**
   * Why the endpoint's access refuses a client, or null: its Origin, its
   * connection token, and (`counting`: a client about to join) the replica's cap.
   */
  private refusedAccess(endpoint: EndpointView, origin: string | undefined, token: string | null, { counting }: { counting: boolean }): Refusal | null {
    const access = endpoint.type === EndpointType.WEB_SOCKET ? endpoint.meta.access : undefined;
    if (!access) return null;
    if (origin !== undefined && access.allowedOrigins.length > 0 && !access.allowedOrigins.includes(origin.toLowerCase())) {
      return refuse(CloseCode.originNotAllowed, 'origin not allowed');
    }
    if (access.requireToken) {
      if (token === null) return refuse(CloseCode.tokenRequired, 'a connection token is required (subprotocol bearer.<token>, or the token query parameter)');
      if (!this.acceptsToken(endpoint, token)) return refuse(CloseCode.tokenRequired, 'the connection token is not valid');
    }
    if (counting && access.maxConnections !== null && this.clients.countOf(endpoint.id) >= access.maxConnections) {
      return refuse(CloseCode.tooManyConnections, 'too many connections to this endpoint on this gateway; retry later');
    }
    return null;
  }

  /**
   * The endpoint's own token, or an ADMIN or READ_ONLY API token that reads
   * this endpoint (a scoped one names it; an AGENT token posts events, it
   * does not read them).
   */
  private acceptsToken(endpoint: EndpointView, token: string): boolean {
    if (this.isOwnToken(endpoint, token)) return true;
    const principal = this.tokens.resolve(token);
    return principal !== null && readsEndpoint(principal, endpoint.id);
  }

  private recheckClients(endpoint: EndpointView): void {
    for (const socket of [...this.clients.socketsOf(endpoint.id)]) {
      const held = this.credentials.get(socket);
      const refused = held && this.refusedAccess(endpoint, held.origin, held.token, { counting: false });
      if (refused) socket.close(refused.code, refused.reason);
    }
  }

  private isOwnToken(endpoint: EndpointView, token: string): boolean {
    const own = this.tokenView.connectionTokenHash(endpoint.id);
    if (own === undefined) return false;
    const [offered, expected] = [Buffer.from(hashToken(token), 'hex'), Buffer.from(own, 'hex')];
    return offered.length === expected.length && timingSafeEqual(offered, expected);
  }

  /** The id of the named API token `token` is, when it is one (its revocation then closes the connection). */
  private namedTokenOf(endpoint: EndpointView, token: string): string | null {
    if (this.isOwnToken(endpoint, token)) return null;
    const principal = this.tokens.resolve(token);
    return principal && namedTokenIdOf(principal);
  }

  /**
   * A client that did not answer the previous ping is presumed dead: closed
   * with 4002 (which a client whose pongs were only late does read), and
   * dropped without waiting if it does not answer the close either.
   */
  private pingAll(): void {
    for (const client of this.sockets.clients) {
      if (!this.alive.has(client)) {
        if (client.readyState === WebSocket.OPEN) {
          client.close(CloseCode.pingTimeout, 'no answer to the last ping');
          setTimeout(() => client.terminate(), PING_CLOSE_GRACE_MS).unref();
        }
        continue;
      }
      this.alive.delete(client);
      client.ping();
    }
  }
}
