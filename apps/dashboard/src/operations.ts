import { operation } from './api.js';
import type {
  Agent,
  DeadLetter,
  DeadLetterFilters,
  DeliveryAttempt,
  DeliveryOutcomeBucket,
  Endpoint,
  EndpointMeta,
  EventFilter,
  EventFilterConditions,
  IssuedAgentCredentials,
  LostEvent,
  MutationCreateAgentArgs,
  MutationRevokeAgentArgs,
  MutationRotateAgentCredentialsArgs,
  MutationCreateEventFiltersArgs,
  MutationCreateWebhookEndpointArgs,
  MutationCancelReplayArgs,
  MutationCreateWebSocketEndpointArgs,
  MutationDiscardDeadLettersArgs,
  MutationDeleteEndpointArgs,
  MutationDeleteEventFiltersArgs,
  MutationPauseEndpointArgs,
  MutationResendDeliveryArgs,
  MutationResubmitDeadLettersArgs,
  MutationResumeEndpointArgs,
  MutationRotateWebhookSecretArgs,
  MutationSendTestEventArgs,
  MutationStartReplayArgs,
  MutationUpdateEndpointArgs,
  MutationUpdateEventFiltersArgs,
  QueryAgentsArgs,
  QueryDeadLettersArgs,
  QueryDeliveryAttemptsArgs,
  QueryEndpointsArgs,
  QueryEventsFiltersArgs,
  QueryLostEventsArgs,
  QueryReplayJobArgs,
  QueryReplayJobsArgs,
  QueryWebhookSecretArgs,
  ReplayJob,
  ReplayReach,
  WebhookSecret,
} from './schema.generated.js';

/**
 * Every GraphQL document the dashboard sends, with the shapes it reads. A
 * test validates each document against apps/api/schema.graphql, and the
 * types come from that schema, so a change of the API that breaks a page
 * fails the build or the tests.
 */

export type EndpointSummary = Pick<Endpoint, 'id' | 'name' | 'type' | 'state' | 'creationDate'> & { meta: Pick<EndpointMeta, 'url' | 'method'> };
export type EndpointDetail = Pick<Endpoint, 'id' | 'name' | 'type' | 'state' | 'creationDate' | 'lastModified'> & {
  meta: EndpointMeta;
  eventFilters: Array<Pick<EventFilter, 'id' | 'name'>>;
};
export type FilterDetail = Pick<EventFilter, 'id' | 'name' | 'creationDate' | 'lastModified' | 'routesEvents'> & {
  in: EventFilterConditions;
  endpoints: Array<Pick<Endpoint, 'id' | 'name' | 'type'>>;
};
export type AttemptRow = Pick<DeliveryAttempt, 'id' | 'eventId' | 'attempt' | 'attemptedAt' | 'outcome' | 'statusCode' | 'durationMs' | 'responseBody' | 'error'>;
export type LostEventRow = Pick<LostEvent, 'id' | 'reason' | 'divertedAt' | 'deletedProfileIds' | 'event'>;
export type EndpointName = Pick<Endpoint, 'id' | 'name' | 'type'>;
export type ReplayJobRow = Pick<
  ReplayJob,
  'id' | 'kind' | 'endpointId' | 'from' | 'to' | 'dryRun' | 'ratePerSecond' | 'state' | 'total' | 'done' | 'sent' | 'skipped' | 'rate' | 'etaSeconds' | 'error' | 'createdAt' | 'startedAt' | 'finishedAt'
> & { reached: ReplayReach[] };
export type DeadLetterRow = Pick<DeadLetter, 'id' | 'app' | 'consumer' | 'reason' | 'detail' | 'deadLetteredAt' | 'sourceSubject' | 'eventId' | 'message' | 'state' | 'resolvedAt'>;

interface Page<T> {
  totalCount: number;
  collectionItems: T[];
}

const ENDPOINT_DETAIL = `id name type state creationDate lastModified
  meta { url method headerNames maxRatePerSecond hasOwnToken access { requireToken allowedOrigins maxConnections } }
  eventFilters { id name }`;

const FILTER_DETAIL = `id name creationDate lastModified routesEvents
  in { cameraIds agentIds profileGroupIds eventTypes }
  endpoints { id name type }`;

export const ENDPOINTS = operation<{ endpoints: Page<EndpointSummary> }, QueryEndpointsArgs>(`
  query Endpoints($filters: EndpointFilters, $order: EndpointOrder, $pagination: Pagination) {
    endpoints(filters: $filters, order: $order, pagination: $pagination) {
      totalCount
      collectionItems { id name type state creationDate meta { url method } }
    }
  }`);

export const ENDPOINT = operation<{ endpoints: Page<EndpointDetail> }, { id: string }>(`
  query Endpoint($id: ID!) {
    endpoints(filters: { id: { exact: $id } }) { totalCount collectionItems { ${ENDPOINT_DETAIL} } }
  }`);

export const CREATE_WEBSOCKET_ENDPOINT = operation<{ createWebSocketEndpoint: Pick<Endpoint, 'id'> }, MutationCreateWebSocketEndpointArgs>(`
  mutation CreateWebSocketEndpoint($name: String!) { createWebSocketEndpoint(name: $name) { id } }`);

export const CREATE_WEBHOOK_ENDPOINT = operation<{ createWebhookEndpoint: Pick<Endpoint, 'id'> }, MutationCreateWebhookEndpointArgs>(`
  mutation CreateWebhookEndpoint($name: String!, $url: String!, $method: WebhookMethod, $headers: [HeaderInput!], $maxRatePerSecond: Int) {
    createWebhookEndpoint(name: $name, url: $url, method: $method, headers: $headers, maxRatePerSecond: $maxRatePerSecond) { id }
  }`);

export const UPDATE_ENDPOINT = operation<{ updateEndpoint: EndpointDetail }, MutationUpdateEndpointArgs>(`
  mutation UpdateEndpoint($id: ID!, $name: String, $url: String, $method: WebhookMethod, $headers: [HeaderInput!], $maxRatePerSecond: Int) {
    updateEndpoint(id: $id, name: $name, url: $url, method: $method, headers: $headers, maxRatePerSecond: $maxRatePerSecond) { ${ENDPOINT_DETAIL} }
  }`);

export const DELETE_ENDPOINT = operation<{ deleteEndpoint: boolean }, MutationDeleteEndpointArgs>(`
  mutation DeleteEndpoint($id: ID!) { deleteEndpoint(id: $id) }`);

export const PAUSE_ENDPOINT = operation<{ pauseEndpoint: Pick<Endpoint, 'id' | 'state'> }, MutationPauseEndpointArgs>(`
  mutation PauseEndpoint($id: ID!) { pauseEndpoint(id: $id) { id state } }`);

export const RESUME_ENDPOINT = operation<{ resumeEndpoint: Pick<Endpoint, 'id' | 'state'> }, MutationResumeEndpointArgs>(`
  mutation ResumeEndpoint($id: ID!) { resumeEndpoint(id: $id) { id state } }`);

export const WEBHOOK_SECRET = operation<{ webhookSecret: WebhookSecret }, QueryWebhookSecretArgs>(`
  query WebhookSecret($endpointId: ID!) { webhookSecret(endpointId: $endpointId) { secret previousSecret previousSecretExpiresAt } }`);

export const ROTATE_WEBHOOK_SECRET = operation<{ rotateWebhookSecret: WebhookSecret }, MutationRotateWebhookSecretArgs>(`
  mutation RotateWebhookSecret($endpointId: ID!) {
    rotateWebhookSecret(endpointId: $endpointId) { secret previousSecret previousSecretExpiresAt }
  }`);

export const SEND_TEST_EVENT = operation<{ sendTestEvent: string }, MutationSendTestEventArgs>(`
  mutation SendTestEvent($endpointId: ID!) { sendTestEvent(endpointId: $endpointId) }`);

export const DELIVERY_ATTEMPTS = operation<{ deliveryAttempts: Page<AttemptRow> }, QueryDeliveryAttemptsArgs>(`
  query DeliveryAttempts($filters: DeliveryAttemptFilters, $order: DeliveryAttemptOrder, $pagination: Pagination) {
    deliveryAttempts(filters: $filters, order: $order, pagination: $pagination) {
      totalCount
      collectionItems { id eventId attempt attemptedAt outcome statusCode durationMs responseBody error }
    }
  }`);

export const DELIVERY_OUTCOMES = operation<{ endpoints: Page<Pick<Endpoint, 'id'> & { deliveryOutcomes: DeliveryOutcomeBucket[] }> }, { id: string; hours: number }>(`
  query DeliveryOutcomes($id: ID!, $hours: Int) {
    endpoints(filters: { id: { exact: $id } }) { collectionItems { id deliveryOutcomes(hours: $hours) { from succeeded retrying failed } } }
  }`);

export const RESEND_DELIVERY = operation<{ resendDelivery: boolean }, MutationResendDeliveryArgs>(`
  mutation ResendDelivery($endpointId: ID!, $eventId: ID!) { resendDelivery(endpointId: $endpointId, eventId: $eventId) }`);

export const EVENT_FILTERS = operation<{ eventsFilters: Page<FilterDetail> }, QueryEventsFiltersArgs>(`
  query EventFilters($filters: EventFilterFilters, $order: EventFilterOrder, $pagination: Pagination) {
    eventsFilters(filters: $filters, order: $order, pagination: $pagination) { totalCount collectionItems { ${FILTER_DETAIL} } }
  }`);

export const CREATE_EVENT_FILTER = operation<{ createEventFilters: Pick<EventFilter, 'id'> }, MutationCreateEventFiltersArgs>(`
  mutation CreateEventFilter($eventFiltersInput: EventFiltersInput!) { createEventFilters(eventFiltersInput: $eventFiltersInput) { id } }`);

export const UPDATE_EVENT_FILTER = operation<{ updateEventFilters: FilterDetail }, MutationUpdateEventFiltersArgs>(`
  mutation UpdateEventFilter($id: ID!, $eventFiltersInput: EventFiltersUpdateInput!) {
    updateEventFilters(id: $id, eventFiltersInput: $eventFiltersInput) { ${FILTER_DETAIL} }
  }`);

export const DELETE_EVENT_FILTER = operation<{ deleteEventFilters: boolean }, MutationDeleteEventFiltersArgs>(`
  mutation DeleteEventFilter($id: ID!) { deleteEventFilters(id: $id) }`);

export const LOST_EVENTS = operation<{ lostEvents: Page<LostEventRow> }, QueryLostEventsArgs>(`
  query LostEvents($filters: LostEventFilters, $order: LostEventOrder, $pagination: Pagination) {
    lostEvents(filters: $filters, order: $order, pagination: $pagination) {
      totalCount
      collectionItems { id reason divertedAt deletedProfileIds event }
    }
  }`);

/** Every endpoint's name, for pickers and for naming the endpoints a replay reached (MAX_PAGE_SIZE at most). */
export const ENDPOINT_NAMES = operation<{ endpoints: Page<EndpointName> }, { limit: number }>(`
  query EndpointNames($limit: Int) {
    endpoints(order: { creationDate: DESC }, pagination: { limit: $limit }) { totalCount collectionItems { id name type } }
  }`);

const REPLAY_JOB_FIELDS = `id kind endpointId from to dryRun ratePerSecond state total done sent skipped rate etaSeconds
  reached { endpointId events } error createdAt startedAt finishedAt`;

export const REPLAY_JOBS = operation<{ replayJobs: Page<ReplayJobRow> }, QueryReplayJobsArgs>(`
  query ReplayJobs($filters: ReplayJobFilters, $order: ReplayJobOrder, $pagination: Pagination) {
    replayJobs(filters: $filters, order: $order, pagination: $pagination) { totalCount collectionItems { ${REPLAY_JOB_FIELDS} } }
  }`);

export const REPLAY_JOB = operation<{ replayJob: ReplayJobRow | null }, QueryReplayJobArgs>(`
  query ReplayJob($id: ID!) { replayJob(id: $id) { ${REPLAY_JOB_FIELDS} } }`);

export const START_REPLAY = operation<{ startReplay: ReplayJobRow }, MutationStartReplayArgs>(`
  mutation StartReplay($input: StartReplayInput!) { startReplay(input: $input) { ${REPLAY_JOB_FIELDS} } }`);

export const CANCEL_REPLAY = operation<{ cancelReplay: Pick<ReplayJob, 'id' | 'state'> }, MutationCancelReplayArgs>(`
  mutation CancelReplay($id: ID!) { cancelReplay(id: $id) { id state } }`);

/** A page of dead letters, and how many of those the filters match are OPEN (what resubmit and discard act on). */
export const DEAD_LETTERS = operation<{ deadLetters: Page<DeadLetterRow>; open: { totalCount: number } }, QueryDeadLettersArgs & { openFilters: DeadLetterFilters }>(`
  query DeadLetters($filters: DeadLetterFilters, $openFilters: DeadLetterFilters, $order: DeadLetterOrder, $pagination: Pagination) {
    deadLetters(filters: $filters, order: $order, pagination: $pagination) {
      totalCount
      collectionItems { id app consumer reason detail deadLetteredAt sourceSubject eventId message state resolvedAt }
    }
    open: deadLetters(filters: $openFilters, pagination: { limit: 1 }) { totalCount }
  }`);

export const RESUBMIT_DEAD_LETTERS = operation<{ resubmitDeadLetters: number }, MutationResubmitDeadLettersArgs>(`
  mutation ResubmitDeadLetters($filters: DeadLetterFilters!) { resubmitDeadLetters(filters: $filters) }`);

export const DISCARD_DEAD_LETTERS = operation<{ discardDeadLetters: number }, MutationDiscardDeadLettersArgs>(`
  mutation DiscardDeadLetters($filters: DeadLetterFilters!) { discardDeadLetters(filters: $filters) }`);

export type AgentRow = Pick<Agent, 'id' | 'name' | 'createdAt' | 'credentialsIssuedAt' | 'natsUserKey' | 'revokedAt' | 'lastEventAt' | 'eventsLastMinute'>;
export type IssuedAgent = Pick<IssuedAgentCredentials, 'token' | 'natsCredentials' | 'natsSubject' | 'natsInboxPrefix'> & { agent: AgentRow };

const AGENT_FIELDS = 'id name createdAt credentialsIssuedAt natsUserKey revokedAt lastEventAt eventsLastMinute';
const ISSUED_FIELDS = `token natsCredentials natsSubject natsInboxPrefix agent { ${AGENT_FIELDS} }`;

export const AGENTS = operation<{ agents: Page<AgentRow> }, QueryAgentsArgs>(`
  query Agents($pagination: Pagination) { agents(pagination: $pagination) { totalCount collectionItems { ${AGENT_FIELDS} } } }`);

export const CREATE_AGENT = operation<{ createAgent: IssuedAgent }, MutationCreateAgentArgs>(`
  mutation CreateAgent($agentId: ID!, $name: String!) { createAgent(agentId: $agentId, name: $name) { ${ISSUED_FIELDS} } }`);

export const ROTATE_AGENT_CREDENTIALS = operation<{ rotateAgentCredentials: IssuedAgent }, MutationRotateAgentCredentialsArgs>(`
  mutation RotateAgentCredentials($agentId: ID!) { rotateAgentCredentials(agentId: $agentId) { ${ISSUED_FIELDS} } }`);

export const REVOKE_AGENT = operation<{ revokeAgent: AgentRow }, MutationRevokeAgentArgs>(`
  mutation RevokeAgent($agentId: ID!) { revokeAgent(agentId: $agentId) { ${AGENT_FIELDS} } }`);

