/**
 * Every subject, stream and bucket name of the data path (consumer names are
 * the apps' consumer specs'), derived
 * from one prefix so that several installations (or tests) can share a NATS
 * server without their streams' subjects overlapping.
 *
 *   <p>.agents.<agent_id>.events   agents publish here (stream INGRESS)
 *   <p>.events.ingested            validated events (stream EVENTS)
 *   <p>.events.profiles.upserted   the platform's profile lifecycle, in the same stream so that
 *   <p>.events.profiles.deleted    profile-sync sees lifecycle and events in one order (stream EVENTS)
 *   <p>.routable                   events past profile-sync, for filter-router (stream ROUTABLE)
 *   <p>.deliveries.ws.<endpoint>.feed  one message per websocket endpoint and event (stream DELIVERIES),
 *                                  one subject per endpoint: the gateway's feed of it is a literal filter
 *   <p>.deliveries.positions.<event>  where an event's websocket deliveries were stored, by endpoint
 *                                  (stream DELIVERIES): what finds where a client resumes after an event
 *   <p>.deliveries.hook.<endpoint> one message per webhook endpoint and event (stream DELIVERIES)
 *   <p>.dead.<consumer>            dead-letter records with their reason (stream DEAD_LETTERS), projected
 *                                  into PostgreSQL by the webhook-dispatcher (dead-letter-projector)
 *   <p>.dead-letters.commands      core NATS: the api's resubmit/discard commands, taken by one dispatcher replica;
 *   <p>.dead-letters.answers.<id>  its answer, on a subject of the dispatcher's own (not the api's inbox)
 *   <p>.attempts                   webhook-dispatcher's delivery changes (attempts, parks, failures), in
 *                                  batches, projected into PostgreSQL in order (stream ATTEMPTS)
 *   <p>.issuer.agents.<verb>       core NATS: the api's requests to the credentials issuer (operator mode)
 *   <p>.activity.agents            core NATS: the api's question to ingest about agents' recent events
 */
/** The data path's durable consumers, by the app that reads each (its consumer spec names it). */
export const DURABLES = {
  ingest: 'ingest',
  profileSync: 'profile-sync',
  filterRouter: 'filter-router',
  webhookDispatcher: 'webhook-dispatcher',
  deliveryProjector: 'delivery-projector',
  deadLetterProjector: 'dead-letter-projector',
} as const;

export class Topology {
  readonly streams: {
    readonly ingress: string;
    readonly events: string;
    readonly routable: string;
    readonly deliveries: string;
    readonly deadLetters: string;
    readonly attempts: string;
  };
  /** KV bucket through which the api publishes endpoint and filter config to the data path (and the dispatcher endpoint health). */
  readonly configBucket: string;
  /** KV bucket of webhooks' sealed signing secrets and custom headers: the api writes it, the dispatcher reads it. */
  readonly secretsBucket: string;
  /** KV bucket of token hashes (named API tokens, websocket endpoints' own tokens): read by the api, ingest and the gateway. */
  readonly tokensBucket: string;
  /** Object store bucket of event images. */
  readonly imageBucket: string;
  /** KV bucket of the profiles deleted within the retention window (DeletedProfiles). */
  readonly deletedProfilesBucket: string;
  /** KV bucket binding each camera to its agent (CameraBindings); ingest its only writer. */
  readonly cameraBucket: string;
  /** KV bucket of leases on named work (Leases): which replica runs a replay job. */
  readonly leasesBucket: string;

  constructor(readonly prefix: string) {
    const upper = prefix.toUpperCase();
    this.streams = {
      ingress: `${upper}_INGRESS`,
      events: `${upper}_EVENTS`,
      routable: `${upper}_ROUTABLE`,
      deliveries: `${upper}_DELIVERIES`,
      deadLetters: `${upper}_DEAD_LETTERS`,
      attempts: `${upper}_ATTEMPTS`,
    };
    this.configBucket = `${prefix}_config`;
    this.secretsBucket = `${prefix}_secrets`;
    this.tokensBucket = `${prefix}_tokens`;
    this.imageBucket = `${prefix}_images`;
    this.deletedProfilesBucket = `${prefix}_deleted_profiles`;
    this.cameraBucket = `${prefix}_cameras`;
    this.leasesBucket = `${prefix}_leases`;
  }

  /** The subject an agent publishes its events on. */
  agentEvents(agentId: string): string {
    return `${this.prefix}.agents.${agentId}.events`;
  }

  /** The agent an agent subject belongs to (`<p>.agents.<agent id>.events`); NATS permissions let an agent publish on its own only. */
  agentOfSubject(subject: string): string {
    return subject.slice(this.prefix.length + '.agents.'.length, subject.length - '.events'.length);
  }

  /**
   * Every consumer of the data path with its stream, subjects and app, in
   * the order events pass them: what consumerLag reports. The first four
   * read in partitions (PartitionedRunner: no durable consumer on the
   * server, their positions in the leases bucket); the projectors are durable.
   */
  get durableConsumers(): Array<{ app: string; stream: string; durable: string; subjects: string }> {
    return [
      { app: 'ingest', stream: this.streams.ingress, durable: DURABLES.ingest, subjects: this.allAgentEvents },
      { app: 'profile-sync', stream: this.streams.events, durable: DURABLES.profileSync, subjects: this.allEvents },
      { app: 'filter-router', stream: this.streams.routable, durable: DURABLES.filterRouter, subjects: this.routableEvents },
      { app: 'webhook-dispatcher', stream: this.streams.deliveries, durable: DURABLES.webhookDispatcher, subjects: this.allWebhookDeliveries },
      { app: 'webhook-dispatcher', stream: this.streams.attempts, durable: DURABLES.deliveryProjector, subjects: this.deliveryChanges },
      { app: 'webhook-dispatcher', stream: this.streams.deadLetters, durable: DURABLES.deadLetterProjector, subjects: this.allDeadLetters },
    ];
  }

  /** The app whose durable consumer `durable` is (a dead letter's `Es-Consumer`), or the name itself when it is none of them. */
  appOfDurable(durable: string): string {
    return this.durableConsumers.find((consumer) => consumer.durable === durable)?.app ?? durable;
  }

  get allAgentEvents(): string {
    return `${this.prefix}.agents.*.events`;
  }

  get ingestedEvents(): string {
    return `${this.prefix}.events.ingested`;
  }

  get allEvents(): string {
    return `${this.prefix}.events.>`;
  }

  /** The platform publishes a profile created or changed (with its groups) here. */
  get profileUpserted(): string {
    return `${this.prefix}.events.profiles.upserted`;
  }

  /** The platform publishes a profile deleted here. */
  get profileDeleted(): string {
    return `${this.prefix}.events.profiles.deleted`;
  }

  get routableEvents(): string {
    return `${this.prefix}.routable`;
  }

  /**
   * A websocket endpoint's deliveries' subject (the endpoint's key, idKey). Its
   * last token keeps the five tokens the deliveries had when the event's id
   * was in the subject, so a gateway of that layout (filter `…ws.<endpoint>.*`)
   * still reads a newer router's deliveries during an upgrade.
   */
  websocketDeliveries(endpointId: string): string {
    return `${this.prefix}.deliveries.ws.${endpointId}.feed`;
  }

  /** Every websocket endpoint's deliveries (the gateway's shared feed): the subjects of websocketDeliveries, no older layout's. */
  get allWebsocketDeliveries(): string {
    return `${this.prefix}.deliveries.ws.*.feed`;
  }

  /** Where the websocket deliveries of one event were stored (WebsocketPositions), by the event's key. */
  websocketPositions(eventId: string): string {
    return `${this.prefix}.deliveries.positions.${eventId}`;
  }

  get allWebsocketPositions(): string {
    return `${this.prefix}.deliveries.positions.*`;
  }

  webhookDeliveries(endpointId: string): string {
    return `${this.prefix}.deliveries.hook.${endpointId}`;
  }

  get allWebhookDeliveries(): string {
    return `${this.prefix}.deliveries.hook.*`;
  }

  get allDeliveries(): string {
    return `${this.prefix}.deliveries.>`;
  }

  /** The endpoint id is the fourth token of a delivery subject (`<p>.deliveries.<ws|hook>.<endpoint>[.feed]`). */
  endpointOfDelivery(subject: string): string {
    return subject.split('.', 4)[3]!;
  }

  deadLetters(consumer: string): string {
    return `${this.prefix}.dead.${consumer}`;
  }

  get allDeadLetters(): string {
    return `${this.prefix}.dead.>`;
  }

  /** Core NATS request subject: the api's dead-letter command (resubmit, discard), taken by one webhook-dispatcher replica (a queue group). */
  get deadLetterCommands(): string {
    return `${this.prefix}.dead-letters.commands`;
  }

  /** Where the dispatcher answers the dead-letter command `id`: a subject of its own, which the api subscribes to (as barrierAnswer). */
  deadLetterAnswer(id: string): string {
    return `${this.prefix}.dead-letters.answers.${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  }

  /** Every answer to a dead-letter command. */
  get deadLetterAnswers(): string {
    return `${this.prefix}.dead-letters.answers.*`;
  }

  /**
   * Whether a dead letter's source subject is one the dispatcher may
   * resubmit to: the subjects the data path's durables read (an agent's
   * events, ingested events, routable events, webhook deliveries). Not the
   * profile lifecycle (the platform's to publish; its dead letters are
   * malformed messages, which a resubmission would not mend), not the
   * delivery changes (a batch applied again after later ones would take a
   * delivery's state back), nor a dead letter of the projector itself (its
   * source a dead-letter subject): those are discarded.
   */
  isResubmittable(subject: string): boolean {
    const tokens = subject.split('.');
    const prefix = this.prefix.split('.').length;
    const own = tokens.slice(0, prefix).join('.') === this.prefix;
    const rest = tokens.slice(prefix);
    if (!own || rest.some((token) => token.length === 0 || token === '*' || token === '>')) return false;
    return (
      (rest.length === 3 && rest[0] === 'agents' && rest[2] === 'events') ||
      [this.ingestedEvents, this.routableEvents].includes(subject) ||
      (rest.length === 3 && rest[0] === 'deliveries' && rest[1] === 'hook')
    );
  }

  /**
   * Core NATS request subject (not in any stream): "has your config view
   * applied bucket revision N?", answered by every webhook-dispatcher replica.
   */
  get configApplied(): string {
    return `${this.prefix}.config.applied`;
  }

  /**
   * Core NATS request subject: "has your token view applied bucket revision
   * N?", answered by every api, ingest and websocket-gateway replica (a
   * revoked token is refused everywhere once revokeApiToken returns).
   */
  get tokensApplied(): string {
    return `${this.prefix}.tokens.applied`;
  }

  /** Core NATS: the api's command to bind a camera to another agent, taken by one ingest replica (CameraBindings). */
  get moveCameraCommands(): string {
    return `${this.prefix}.cameras.move`;
  }

  /** Where an app answers the barrier question `id` (ConfigBarrierResponder): a subject of its own, not the asker's inbox. */
  barrierAnswer(app: string, id: string): string {
    return `${this.prefix}.barrier.${app.replace(/[^A-Za-z0-9_-]/g, '_')}.${id}`;
  }

  /** Every app's answers to the barrier question `id`. */
  barrierAnswers(id: string): string {
    return `${this.prefix}.barrier.*.${id}`;
  }

  /**
   * Core NATS: the api's requests to the credentials issuer (operator mode,
   * apps/credentials-issuer), `issue` or `revoke`; only the api may send them.
   */
  agentCredentials(verb: 'issue' | 'revoke'): string {
    return `${this.prefix}.issuer.agents.${verb}`;
  }

  /** Core NATS: the api's question to every ingest replica about what it accepted of some agents (AgentActivity). */
  get agentActivity(): string {
    return `${this.prefix}.activity.agents`;
  }

  /** Batches of webhook delivery changes (each message a JSON array), projected into PostgreSQL by the dispatcher. */
  get deliveryChanges(): string {
    return `${this.prefix}.attempts`;
  }
}

/** Headers the data path adds to messages; bodies stay the event JSON exactly. */
export const Headers = {
  eventId: 'Es-Event-Id',
  /** Routing fields, set by ingest so that filter-router need not parse the body. */
  eventType: 'Es-Event-Type',
  cameraId: 'Es-Camera-Id',
  agentId: 'Es-Agent-Id',
  /** The candidates' profile group ids, comma-separated (empty: none). */
  profileGroups: 'Es-Profile-Groups',
  endpointId: 'Es-Endpoint-Id',
  /**
   * When ingest accepted the event (stored it), in epoch milliseconds: set by
   * ingest, carried by profile-sync and filter-router onto every delivery, for
   * the delivery latency metrics. A resend or replay carries none.
   */
  acceptedAt: 'Es-Accepted-At',
  /**
   * On a webhook delivery the api re-sent (resendDelivery): when it is due,
   * in epoch milliseconds; the dispatcher parks it until then.
   */
  dueAt: 'Es-Due-At',
  /** On a delivery sent again: by which operation (`resend`: resendDelivery; `replay`: a REDELIVER replay job); a replay skips such copies, a websocket resume does not start after one. */
  resent: 'Es-Resent',
  /** A dead letter's reason: one of DeadLetterReason's codes. */
  reason: 'Es-Reason',
  /** A dead letter's detail, free text. */
  detail: 'Es-Detail',
  sourceSubject: 'Es-Source-Subject',
  sourceSequence: 'Es-Source-Sequence',
  consumer: 'Es-Consumer',
} as const;

/** The headers a dead letter carries about itself (lower case), set by ConsumerRunner over whatever the original carried. */
export const DEAD_LETTER_HEADERS: ReadonlySet<string> = new Set([Headers.reason, Headers.detail, Headers.sourceSubject, Headers.sourceSequence, Headers.consumer].map((name) => name.toLowerCase()));
