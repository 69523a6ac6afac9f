// Generated from apps/api/schema.graphql by `npm run schema`: do not edit.

/** An agent made through this API: its AGENT token and, with NATS operator mode, its NATS credentials (shown once each). */
export interface Agent {
  createdAt: string;
  /** When its current token (and NATS credentials) were issued. */
  credentialsIssuedAt: string | null;
  /** Events of it ingest accepted in the last minute (duplicates not counted). */
  eventsLastMinute: number;
  /** The agent id its events carry (camera.agent_id). */
  id: string;
  /** When ingest last accepted one of its events (since ingest started; over HTTP or NATS). */
  lastEventAt: string | null;
  name: string;
  /** The public key of its current NATS user (operator mode): what the server's connection list shows. */
  natsUserKey: string | null;
  /** When it was revoked: its token and NATS credentials are refused since. */
  revokedAt: string | null;
}

export interface AgentCollection {
  collectionItems: Array<Agent>;
  totalCount: number;
}

/** A named API token; the token itself is shown once, by createApiToken. */
export interface ApiToken {
  /** The agents an AGENT token may post events for (at least one; a token made before tokens were bound may have none, and then posts for none). */
  agentIds: Array<string>;
  creationDate: string;
  /** The endpoints a READ_ONLY token may read (their filters, deliveries and websockets); null: every endpoint. */
  endpointIds: Array<string> | null;
  id: string;
  name: string;
  revokedAt: string | null;
  scope: TokenScope;
}

export interface ApiTokenCollection {
  collectionItems: Array<ApiToken>;
  totalCount: number;
}

/** The agent whose events may name a camera: the first that reported it, or the one an ADMIN moved it to. */
export interface CameraBinding {
  agentId: string;
  boundAt: string;
  cameraId: string;
}

/** A durable consumer of the data path, as JetStream counts it: what its app's replicas have yet to take and to finish. */
export interface ConsumerLag {
  /** Messages delivered and not yet acknowledged (in hand, or waiting to be redelivered). */
  ackPending: number;
  /** The app whose replicas share the consumer. */
  app: string;
  consumer: string;
  /** False until its app has started once (the consumer is made then): the other figures are 0. */
  exists: boolean;
  /** Messages stored and not yet delivered to the app. */
  pending: number;
  /** Messages delivered more than once and not yet acknowledged. */
  redelivered: number;
  stream: string;
}

export interface CreatedApiToken {
  apiToken: ApiToken;
  /** The token to send (`Token: <token>` or `Authorization: Bearer <token>`). Shown this once: only its hash is kept. */
  token: string;
}

export interface DateFilter {
  gt?: string | null;
  gte?: string | null;
  lt?: string | null;
  lte?: string | null;
}

/** A message the data path gave up on (it can never succeed as it is), with why; resubmit it after a fix, or discard it. */
export interface DeadLetter {
  /** The app that gave up on it: ingest, profile-sync, filter-router or webhook-dispatcher. */
  app: string;
  /** The durable consumer that gave up on it. */
  consumer: string;
  deadLetteredAt: string;
  /** The reason in words (the rejected field, the error). */
  detail: string;
  /** The event it is about, when the message names one. */
  eventId: string | null;
  /** Its sequence in the dead-letter stream. */
  id: string;
  /** The message body as UTF-8 text: the event JSON, or the bytes an agent sent. */
  message: string;
  /** Why: a reason code (INVALID_EVENT, MISSING_HEADERS, UNKNOWN_ENDPOINT, … docs/operations.md). */
  reason: string;
  /** When it was resubmitted or discarded. */
  resolvedAt: string | null;
  /** Where it was read, and where a resubmission sends it. */
  sourceSubject: string;
  state: DeadLetterState;
}

export interface DeadLetterCollection {
  collectionItems: Array<DeadLetter>;
  totalCount: number;
}

export interface DeadLetterFilters {
  /** The app that gave up on it. */
  app?: StringFilter | null;
  /** When it was dead-lettered. */
  deadLetteredAt?: DateFilter | null;
  /** The dead letter’s id (its stream sequence). */
  id?: IdFilter | null;
  /** The reason code. */
  reason?: StringFilter | null;
  state?: DeadLetterStateFilter | null;
}

export interface DeadLetterOrder {
  /** By when it was dead-lettered. */
  deadLetteredAt?: SortDirection | null;
}

/** OPEN as it came; RESUBMITTED sent back where it came from; DISCARDED put aside. */
export type DeadLetterState = 'DISCARDED' | 'OPEN' | 'RESUBMITTED';
export const DeadLetterStateValues: readonly DeadLetterState[] = ['DISCARDED', 'OPEN', 'RESUBMITTED'];

export interface DeadLetterStateFilter {
  exact?: DeadLetterState | null;
  in?: Array<DeadLetterState> | null;
}

/** One attempt to deliver one event to one webhook endpoint. */
export interface DeliveryAttempt {
  /** 1 for the first attempt; 0 when nothing was sent (the endpoint was disabled). */
  attempt: number;
  attemptedAt: string;
  durationMs: number;
  endpointId: string;
  error: string | null;
  eventId: string;
  id: string;
  outcome: DeliveryOutcome;
  /** The start of the answer (DELIVERY_LOG_BODY_BYTES). */
  responseBody: string | null;
  statusCode: number | null;
}

export interface DeliveryAttemptCollection {
  collectionItems: Array<DeliveryAttempt>;
  totalCount: number;
}

export interface DeliveryAttemptFilters {
  attemptedAt?: DateFilter | null;
  endpointId?: IdFilter | null;
  eventId?: IdFilter | null;
  outcome?: DeliveryOutcomeFilter | null;
}

export interface DeliveryAttemptOrder {
  attemptedAt?: SortDirection | null;
}

/** How one delivery attempt ended. */
export type DeliveryOutcome = 'FAILED' | 'RETRYING' | 'SUCCEEDED';
export const DeliveryOutcomeValues: readonly DeliveryOutcome[] = ['FAILED', 'RETRYING', 'SUCCEEDED'];

/** One hour of a webhook endpoint's delivery log: its attempts by outcome. */
export interface DeliveryOutcomeBucket {
  failed: number;
  /** The start of the hour (UTC); the bucket holds the attempts of [from, from + 1 hour). */
  from: string;
  retrying: number;
  succeeded: number;
}

export interface DeliveryOutcomeFilter {
  exact?: DeliveryOutcome | null;
}

export interface Endpoint {
  creationDate: string;
  /** A webhook endpoint’s delivery attempts by outcome, hourly, the current hour last; [] for a websocket endpoint. */
  deliveryOutcomes: Array<DeliveryOutcomeBucket>;
  /** The filters that route events to this endpoint; none means every event. */
  eventFilters: Array<EventFilter>;
  id: string;
  lastModified: string;
  meta: EndpointMeta;
  name: string;
  state: EndpointState;
  type: EndpointType;
}

export interface EndpointDeliveryOutcomesArgs {
  /** How many hours back, the current one included: 1 to 168. */
  hours?: number | null;
}

export interface EndpointCollection {
  collectionItems: Array<Endpoint>;
  totalCount: number;
}

export interface EndpointFilters {
  id?: IdFilter | null;
  type?: EndpointTypeFilter | null;
}

/** Type-specific settings; a webhook has its url and method. */
export interface EndpointMeta {
  /** Who may connect to a websocket endpoint; null: anyone with its id (setWebSocketAccess). */
  access: WebSocketAccess | null;
  /** Whether a websocket endpoint has its own connection token (rotateWebSocketToken); the token itself is never shown again. */
  hasOwnToken: boolean | null;
  /** Names of the webhook's custom headers (their values are never shown). */
  headerNames: Array<string> | null;
  /** At most this many deliveries a second (per dispatcher replica); null: no limit. */
  maxRatePerSecond: number | null;
  method: WebhookMethod | null;
  url: string | null;
}

export interface EndpointOrder {
  creationDate?: SortDirection | null;
}

/** Whether a webhook endpoint is sent to: a pause by hand, else its delivery health. */
export type EndpointState = 'ACTIVE' | 'DISABLED_GONE' | 'PAUSED_BY_FAILURES' | 'PAUSED_BY_HAND';
export const EndpointStateValues: readonly EndpointState[] = ['ACTIVE', 'DISABLED_GONE', 'PAUSED_BY_FAILURES', 'PAUSED_BY_HAND'];

export type EndpointType = 'WEB_HOOK' | 'WEB_SOCKET';
export const EndpointTypeValues: readonly EndpointType[] = ['WEB_HOOK', 'WEB_SOCKET'];

export interface EndpointTypeFilter {
  exact?: EndpointType | null;
}

export interface EventFilter {
  creationDate: string;
  endpoints: Array<Endpoint>;
  id: string;
  in: EventFilterConditions;
  lastModified: string;
  name: string;
  /** False when the filter has no endpoint: it routes nothing. */
  routesEvents: boolean;
}

export interface EventFilterCollection {
  collectionItems: Array<EventFilter>;
  totalCount: number;
}

/** Every non-empty condition must hold; within one, any value matches. */
export interface EventFilterConditions {
  agentIds: Array<string>;
  cameraIds: Array<string>;
  eventTypes: Array<EventType>;
  /** Watchlists: holds when any candidate is in one of these profile groups. */
  profileGroupIds: Array<string>;
}

export interface EventFilterConditionsInput {
  agentIds?: Array<string> | null;
  cameraIds?: Array<string> | null;
  eventTypes?: Array<EventType> | null;
  profileGroupIds?: Array<string> | null;
}

export interface EventFilterFilters {
  id?: IdFilter | null;
}

export interface EventFilterOrder {
  creationDate?: SortDirection | null;
  lastModified?: SortDirection | null;
}

export interface EventFiltersInput {
  endpointIds?: Array<string> | null;
  in?: EventFilterConditionsInput | null;
  name: string;
}

/** Only the fields given change; a condition given as [] no longer restricts. */
export interface EventFiltersUpdateInput {
  endpointIds?: Array<string> | null;
  in?: EventFilterConditionsInput | null;
  name?: string | null;
}

/** An event's `type`, as agents send it. */
export type EventType = 'crossing' | 'face_hide_control' | 'har' | 'identification' | 'non_identification' | 'roi';
export const EventTypeValues: readonly EventType[] = ['crossing', 'face_hide_control', 'har', 'identification', 'non_identification', 'roi'];

export interface EventTypeFilter {
  exact?: EventType | null;
  in?: Array<EventType> | null;
}

export interface HeaderInput {
  name: string;
  value: string;
}

export interface IdFilter {
  exact?: string | null;
  in?: Array<string> | null;
}

/** What createAgent and rotateAgentCredentials issue: shown this once, kept nowhere. */
export interface IssuedAgentCredentials {
  agent: Agent;
  /** The agent's NATS `.creds` file (a user JWT and its seed): it may publish on natsSubject and read its inbox (natsInboxPrefix) only. Null where NATS runs without operator mode (AGENT_CREDENTIALS=none). */
  natsCredentials: string | null;
  /** The inbox prefix the agent's NATS client must use (the acks of its publishes come back there). */
  natsInboxPrefix: string;
  /** The subject the agent publishes its events on. */
  natsSubject: string;
  /** An AGENT token bound to this agent alone, for POST /event-service/events (`Token: <token>`). */
  token: string;
}

/** An event not delivered because every candidate’s profile had been deleted. */
export interface LostEvent {
  deletedProfileIds: Array<string>;
  /** When profile-sync diverted it. */
  divertedAt: string;
  /** The full event, as it would have been delivered (deleted candidates removed), in the agent’s key order. */
  event: unknown;
  /** The event id. */
  id: string;
  /** Why it was not delivered: ALL_CANDIDATES_DELETED. */
  reason: string;
}

export interface LostEventCollection {
  collectionItems: Array<LostEvent>;
  totalCount: number;
}

export interface LostEventFilters {
  agentId?: IdFilter | null;
  cameraId?: IdFilter | null;
  /** The detection date. */
  date?: DateFilter | null;
  id?: IdFilter | null;
  /** A deleted profile of the event. */
  profileId?: IdFilter | null;
  /** The event type. */
  type?: EventTypeFilter | null;
}

export interface LostEventOrder {
  /** By detection date. */
  date?: SortDirection | null;
}

export interface Mutation {
  /** Stops a replay after the batch it is sending; what was sent stays sent. */
  cancelReplay: ReplayJob;
  /** Makes an agent: an AGENT token bound to it and, in NATS operator mode, its NATS credentials, shown this once. Accepted everywhere once this returns. */
  createAgent: IssuedAgentCredentials;
  /** Makes a named token; the answer is the only time the token is shown. Accepted everywhere once this returns. */
  createApiToken: CreatedApiToken;
  createEventFilters: EventFilter;
  createWebSocketEndpoint: Endpoint;
  createWebhookEndpoint: Endpoint;
  deleteEndpoint: boolean;
  deleteEventFilters: boolean;
  /** A profile deleted on the platform: events stored from now on lose it as a candidate (docs/profiles.md). True once stored. */
  deleteProfile: boolean;
  /** Marks the OPEN dead letters of the filters DISCARDED (at most 10000 a call). Returns how many. */
  discardDeadLetters: number;
  /** Binds a camera to another agent: that agent's events may name it from now on, and the former agent's are refused (CAMERA_OF_ANOTHER_AGENT). */
  moveCamera: CameraBinding;
  /** Stops sending to a webhook endpoint; its deliveries wait until it is resumed. */
  pauseEndpoint: Endpoint;
  /** Attempts a failed webhook delivery again. */
  resendDelivery: boolean;
  /** Sends the OPEN dead letters of the filters back where they came from, with the headers they had, and marks them RESUBMITTED (at most 10000 a call, oldest first: call again while it returns that many). A dead letter that still cannot succeed comes back as a new one. Returns how many. */
  resubmitDeadLetters: number;
  /** Sends to a paused or disabled webhook endpoint again. */
  resumeEndpoint: Endpoint;
  /** Revokes an agent: once this returns, NATS refuses its credentials and has closed its connections, and ingest refuses its token. */
  revokeAgent: Agent;
  /** Revokes a named token: refused by the API, ingest and the websocket gateway once this returns. */
  revokeApiToken: ApiToken;
  /** Issues an agent new credentials, shown this once; the old ones are refused once this returns. */
  rotateAgentCredentials: IssuedAgentCredentials;
  /** Makes the websocket endpoint's own connection token (replacing the previous one); shown this once. */
  rotateWebSocketToken: string;
  /** Replaces the signing secret; during the grace window deliveries carry both signatures. */
  rotateWebhookSecret: WebhookSecret;
  /** Sends a sample event to this endpoint only; returns its event id. */
  sendTestEvent: string;
  /** Sets who may connect to a websocket endpoint: a token, browser origins, a connection cap per gateway replica. */
  setWebSocketAccess: Endpoint;
  /** Starts a replay job (QUEUED until a dispatcher replica takes it); a dry run counts what it would send, by endpoint. */
  startReplay: ReplayJob;
  updateEndpoint: Endpoint;
  updateEventFilters: EventFilter;
  /** A profile created or changed on the platform, with its complete list of watchlists: what the lifecycle subject es.events.profiles.upserted carries. True once stored. */
  upsertProfile: boolean;
}

export interface MutationCancelReplayArgs {
  id: string;
}

export interface MutationCreateAgentArgs {
  /** The agent id its events will carry (camera.agent_id). */
  agentId: string;
  name: string;
}

export interface MutationCreateApiTokenArgs {
  /** For an AGENT token: the agent ids it may post events for (at least one). */
  agentIds?: Array<string> | null;
  /** For a READ_ONLY token: the only endpoints it may read (at least one); it then sees nothing global (lost events, other endpoints, any image without its signed link). Omitted: every endpoint. */
  endpointIds?: Array<string> | null;
  name: string;
  scope: TokenScope;
}

export interface MutationCreateEventFiltersArgs {
  eventFiltersInput: EventFiltersInput;
}

export interface MutationCreateWebSocketEndpointArgs {
  name: string;
}

export interface MutationCreateWebhookEndpointArgs {
  headers?: Array<HeaderInput> | null;
  /** At most this many deliveries a second (per dispatcher replica); none when unset. */
  maxRatePerSecond?: number | null;
  method?: WebhookMethod | null;
  name: string;
  url: string;
}

export interface MutationDeleteEndpointArgs {
  id: string;
}

export interface MutationDeleteEventFiltersArgs {
  id: string;
}

export interface MutationDeleteProfileArgs {
  id: string;
}

export interface MutationDiscardDeadLettersArgs {
  filters: DeadLetterFilters;
}

export interface MutationMoveCameraArgs {
  /** The agent the camera belongs to from now on. */
  agentId: string;
  cameraId: string;
}

export interface MutationPauseEndpointArgs {
  id: string;
}

export interface MutationResendDeliveryArgs {
  endpointId: string;
  eventId: string;
}

export interface MutationResubmitDeadLettersArgs {
  filters: DeadLetterFilters;
}

export interface MutationResumeEndpointArgs {
  id: string;
}

export interface MutationRevokeAgentArgs {
  agentId: string;
}

export interface MutationRevokeApiTokenArgs {
  id: string;
}

export interface MutationRotateAgentCredentialsArgs {
  agentId: string;
}

export interface MutationRotateWebSocketTokenArgs {
  endpointId: string;
}

export interface MutationRotateWebhookSecretArgs {
  endpointId: string;
  graceSeconds?: number | null;
}

export interface MutationSendTestEventArgs {
  endpointId: string;
}

export interface MutationSetWebSocketAccessArgs {
  access: WebSocketAccessInput;
  endpointId: string;
}

export interface MutationStartReplayArgs {
  input: StartReplayInput;
}

export interface MutationUpdateEndpointArgs {
  headers?: Array<HeaderInput> | null;
  id: string;
  /** A webhook delivery rate limit; 0 removes it. */
  maxRatePerSecond?: number | null;
  method?: WebhookMethod | null;
  name?: string | null;
  url?: string | null;
}

export interface MutationUpdateEventFiltersArgs {
  eventFiltersInput: EventFiltersUpdateInput;
  id: string;
}

export interface MutationUpsertProfileArgs {
  id: string;
  /** Its complete current list of watchlists (profile groups). */
  profileGroups: Array<ProfileGroupInput>;
}

export interface Pagination {
  limit?: number | null;
  offset?: number | null;
}

/** A watchlist a profile is on. */
export interface ProfileGroupInput {
  color?: string | null;
  id: string;
}

export interface Query {
  /** The agents made through this API, newest first, revoked ones included (not to a token scoped to endpoints). */
  agents: AgentCollection;
  /** Named API tokens, newest first (ADMIN tokens only). */
  apiTokens: ApiTokenCollection;
  /** The data path's durable consumers and their lag, in the order events pass them. */
  consumerLag: Array<ConsumerLag>;
  /** Messages the data path gave up on, with why; newest first by default. */
  deadLetters: DeadLetterCollection;
  /** The delivery log: attempts per endpoint and per event, newest first by default. */
  deliveryAttempts: DeliveryAttemptCollection;
  endpoints: EndpointCollection;
  eventsFilters: EventFilterCollection;
  /** Events not delivered because their candidates’ profiles were deleted; newest first by default. */
  lostEvents: LostEventCollection;
  replayJob: ReplayJob | null;
  /** Replay jobs; newest first by default. */
  replayJobs: ReplayJobCollection;
  /** A webhook endpoint's signing secret, to verify its deliveries (ADMIN tokens only). */
  webhookSecret: WebhookSecret;
}

export interface QueryAgentsArgs {
  pagination?: Pagination | null;
}

export interface QueryApiTokensArgs {
  pagination?: Pagination | null;
}

export interface QueryDeadLettersArgs {
  filters?: DeadLetterFilters | null;
  order?: DeadLetterOrder | null;
  pagination?: Pagination | null;
}

export interface QueryDeliveryAttemptsArgs {
  filters?: DeliveryAttemptFilters | null;
  order?: DeliveryAttemptOrder | null;
  pagination?: Pagination | null;
}

export interface QueryEndpointsArgs {
  filters?: EndpointFilters | null;
  order?: EndpointOrder | null;
  pagination?: Pagination | null;
}

export interface QueryEventsFiltersArgs {
  filters?: EventFilterFilters | null;
  order?: EventFilterOrder | null;
  pagination?: Pagination | null;
}

export interface QueryLostEventsArgs {
  filters?: LostEventFilters | null;
  order?: LostEventOrder | null;
  pagination?: Pagination | null;
}

export interface QueryReplayJobArgs {
  id: string;
}

export interface QueryReplayJobsArgs {
  filters?: ReplayJobFilters | null;
  order?: ReplayJobOrder | null;
  pagination?: Pagination | null;
}

export interface QueryWebhookSecretArgs {
  endpointId: string;
}

/** A replay, run by a webhook-dispatcher replica; progress moves once a batch is stored. */
export interface ReplayJob {
  createdAt: string;
  /** Messages read. */
  done: number;
  /** Counts what would be sent, sends nothing. */
  dryRun: boolean;
  /** The endpoint a REDELIVER re-sends to. */
  endpointId: string | null;
  error: string | null;
  /** Seconds left at that rate. */
  etaSeconds: number | null;
  finishedAt: string | null;
  from: string;
  id: string;
  kind: ReplayKind;
  /** Messages read a second, lately. */
  rate: number | null;
  /** The job’s own cap, deliveries a second; null: the workers’ default (REPLAY_RATE_PER_SECOND). */
  ratePerSecond: number | null;
  /** Deliveries by endpoint, most first. */
  reached: Array<ReplayReach>;
  /** Deliveries sent (a dry run: that would be). */
  sent: number;
  /** Messages read that sent nothing: an earlier replay’s copies, events whose candidates were all deleted since, events every target already had. */
  skipped: number;
  startedAt: string | null;
  state: ReplayState;
  /** The end of the range; nothing stored after the job was created is read. */
  to: string;
  /** Messages in the range when a worker took the job (null before). */
  total: number | null;
  /** The replica running it (host:pid). */
  worker: string | null;
}

export interface ReplayJobCollection {
  collectionItems: Array<ReplayJob>;
  totalCount: number;
}

export interface ReplayJobFilters {
  /** A REDELIVER’s endpoint. */
  endpointId?: IdFilter | null;
  id?: IdFilter | null;
  kind?: ReplayKindFilter | null;
  state?: ReplayStateFilter | null;
}

export interface ReplayJobOrder {
  /** By creation; newest first by default. */
  createdAt?: SortDirection | null;
}

/** REDELIVER: one endpoint’s deliveries in a time range, again. REROUTE: a time range of events through today’s filters, to the endpoints that were not routed them. */
export type ReplayKind = 'REDELIVER' | 'REROUTE';
export const ReplayKindValues: readonly ReplayKind[] = ['REDELIVER', 'REROUTE'];

export interface ReplayKindFilter {
  exact?: ReplayKind | null;
}

/** How many deliveries a replay sent (a dry run: would send) to one endpoint. */
export interface ReplayReach {
  endpointId: string;
  events: number;
}

/** QUEUED: no worker has taken it yet. */
export type ReplayState = 'CANCELLED' | 'FAILED' | 'QUEUED' | 'RUNNING' | 'SUCCEEDED';
export const ReplayStateValues: readonly ReplayState[] = ['CANCELLED', 'FAILED', 'QUEUED', 'RUNNING', 'SUCCEEDED'];

export interface ReplayStateFilter {
  exact?: ReplayState | null;
  in?: Array<ReplayState> | null;
}

export type SortDirection = 'ASC' | 'DESC';
export const SortDirectionValues: readonly SortDirection[] = ['ASC', 'DESC'];

export interface StartReplayInput {
  /** Count what would be sent, by endpoint; send nothing. */
  dryRun?: boolean | null;
  /** REDELIVER: the endpoint (webhook or websocket). REROUTE: none. */
  endpointId?: string | null;
  from: string;
  kind: ReplayKind;
  /** Deliveries a second (1 to 100000); the workers’ REPLAY_TOTAL_RATE_PER_SECOND caps all jobs together. */
  ratePerSecond?: number | null;
  to: string;
}

/** Text equal to one value, or to any of a list. */
export interface StringFilter {
  exact?: string | null;
  in?: Array<string> | null;
}

/** What an API token may do. */
export type TokenScope = 'ADMIN' | 'AGENT' | 'READ_ONLY';
export const TokenScopeValues: readonly TokenScope[] = ['ADMIN', 'AGENT', 'READ_ONLY'];

export interface WebSocketAccess {
  allowedOrigins: Array<string>;
  maxConnections: number | null;
  requireToken: boolean;
}

export interface WebSocketAccessInput {
  /** Browser origins (`https://app.example`) allowed to connect; empty: any. Clients that send no Origin (not browsers) are not affected. */
  allowedOrigins: Array<string>;
  /** At most this many connections to the endpoint on each gateway replica; null: no cap. */
  maxConnections?: number | null;
  /** Require a connection token: the endpoint's own (rotateWebSocketToken) or an ADMIN or READ_ONLY API token. */
  requireToken: boolean;
}

/** The HTTP method a webhook is sent with. */
export type WebhookMethod = 'PATCH' | 'POST' | 'PUT';
export const WebhookMethodValues: readonly WebhookMethod[] = ['PATCH', 'POST', 'PUT'];

/** A webhook endpoint's Standard Webhooks signing secrets. */
export interface WebhookSecret {
  /** The secret before the last rotation, still signing until previousSecretExpiresAt. */
  previousSecret: string | null;
  previousSecretExpiresAt: string | null;
  /** The current secret (whsec_…): every delivery is signed with it. */
  secret: string;
}
