import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import { connect, RequestError, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { SimulationSink } from './run-simulation.js';
import type { ProfileUpsert } from './simulation.js';

const encoder = new TextEncoder();
const NO_RESPONDER_ATTEMPTS = 5;

/**
 * As agents and the platform do it over NATS: each event a JetStream publish
 * on its agent's subject (`<prefix>.agents.<id>.events`), each lifecycle
 * change on `<prefix>.events.profiles.upserted|deleted`; each resolves on the
 * stream's ack. No JetStream API is used, so an agent's user (no JetStream
 * of its own, behind the account's import) is enough for the events.
 */
export class NatsSink implements SimulationSink {
  /** Publishes sent again after "no responders". */
  resent = 0;
  private readonly stream: ReturnType<typeof jetstream>;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly prefix: string,
  ) {
    this.stream = jetstream(connection);
  }

  static async open(options: ConnectionOptions, prefix: string): Promise<NatsSink> {
    return new NatsSink(await connect({ name: 'event-service simulate', ...options }), prefix);
  }

  async profile(change: { upserted: ProfileUpsert } | { deleted: { id: string } }): Promise<void> {
    const [subject, body] = 'upserted' in change ? [`${this.prefix}.events.profiles.upserted`, change.upserted] : [`${this.prefix}.events.profiles.deleted`, change.deleted];
    await this.publish(subject, encoder.encode(JSON.stringify(body)), randomUUID());
  }

  async event(agentId: string, body: string, eventId: string): Promise<void> {
    // The event id as the message id: a retried publish is stored once.
    await this.publish(`${this.prefix}.agents.${agentId}.events`, encoder.encode(body), `${agentId}:${eventId}`);
  }

  /**
   * A publish answered "no responders" reached no stream and stored nothing:
   * tried up to NO_RESPONDER_ATTEMPTS times in all, 0.1 s, 0.2 s, 0.4 s and
   * 0.8 s apart, with the same message id. In operator mode a server taking
   * the agents account's update (each revocation, each rotation) replaces
   * the subscriptions behind the account's imports, and an agent's publish
   * caught between the old and the new is answered so.
   */
  private async publish(subject: string, data: Uint8Array, msgID: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.stream.publish(subject, data, { msgID });
        return;
      } catch (error) {
        const cause = (error as Error).cause;
        if (attempt >= NO_RESPONDER_ATTEMPTS || !(cause instanceof RequestError && cause.isNoResponders())) throw error;
        this.resent += 1;
        await sleep(100 * 2 ** (attempt - 1));
      }
    }
  }

  async close(): Promise<void> {
    await this.connection.drain();
  }
}

const UNAVAILABLE_ATTEMPTS = 10;

/** Refused by the service: the status and its error body, for the caller to report. */
export class SinkRefusal extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`refused with ${status}: ${body.slice(0, 300)}`);
  }
}

/**
 * As agents without a NATS client do it: each event a POST to ingest
 * (`/event-service/events`) with an AGENT or ADMIN token, and the profile
 * lifecycle through the GraphQL API (upsertProfile, deleteProfile: an ADMIN
 * token).
 */
export class HttpSink implements SimulationSink {
  constructor(
    private readonly urls: { ingest: string; api: string },
    private readonly token: string,
  ) {}

  async profile(change: { upserted: ProfileUpsert } | { deleted: { id: string } }): Promise<void> {
    const [query, variables] =
      'upserted' in change
        ? ['mutation($id: ID!, $groups: [ProfileGroupInput!]!) { upsertProfile(id: $id, profileGroups: $groups) }', { id: change.upserted.id, groups: change.upserted.profile_groups }]
        : ['mutation($id: ID!) { deleteProfile(id: $id) }', { id: change.deleted.id }];
    const response = await fetch(`${this.urls.api}/event-service/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    const answer = (() => {
      try {
        return JSON.parse(text) as { errors?: unknown[] };
      } catch {
        return null;
      }
    })();
    if (!response.ok || !answer || answer.errors) throw new SinkRefusal(response.status, text);
  }

  /** As an agent does: a 503 (the store cannot take it now) is tried again after its Retry-After, a few times. */
  async event(_agentId: string, body: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const response = await fetch(`${this.urls.ingest}/event-service/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
        body,
      });
      if (response.status === 202) {
        await response.body?.cancel();
        return;
      }
      if (response.status !== 503 || attempt === UNAVAILABLE_ATTEMPTS) throw new SinkRefusal(response.status, await response.text());
      await response.body?.cancel();
      await sleep(Math.min(10, Number(response.headers.get('retry-after')) || 1) * 1_000);
    }
  }

  async close(): Promise<void> {}
}
