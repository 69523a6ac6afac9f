export { DEAD_LETTER_HEADERS, DURABLES, Topology, Headers } from './topology.js';
export { authOptions, NatsClient, natsSettings, type NatsAuth, type NatsSettings } from './nats-connection.js';
export { deadLetterMaxAgeMs, ensureStreams, streamConfigs } from './streams.js';
export { DeadLetterReason, Outcome } from './outcome.js';
export { isStoreFull, publishDurably, PublishUnavailableError, StreamFullError, type PublishOptions } from './publisher.js';
export { JetStreamConsumer, UNPARTITIONED, type ConsumerSpec, type HandleContext, type MessageHandler } from './consumer.js';
export { ConsumerRunner, keptHeaders, type ConsumerStats } from './consumer-runner.js';
export { ConsumerBacklog } from './consumer-backlog.js';
export { acceptedAtOf, dueAtOf } from './routing-headers.js';
export { ConfigKeys, ENDPOINT_TYPES, type ConnectionTokenRecord, EndpointType, TOKEN_SCOPES, TokenScope, type TokenRecord, type WebSocketAccess, type WebSocketMeta, type WebhookMeta, type ConfigChange, type EndpointRecord, type EndpointView, type WebhookView, type FilterRecord, type SecretsRecord } from './config-records.js';
export { bucketOfKey, ConfigPublisher, ConfigPublishers, EndpointHealthPublisher, openConfigBucket, type ConfigBucketName, type CurrentValue, type PublishedRevisions, type ReadCurrent } from './config-bucket.js';
export { ConfigView } from './config-view.js';
export { ConfigBarrierModule, ConfigPublisherModule, ConfigViewModule, ConsumerHost, EndpointHealthPublisherModule, MessagingModule, SECRETS_VIEW, SecretsViewModule, TokenViewModule } from './messaging.module.js';
export { readRoutingHeaders, routingHeaders } from './routing-headers.js';
export { addImage, hasImageChunks, IMAGE_CONTENT_TYPE, imageChunksSubject, imageDescriptionSubject, imageStoreStream, openImageStore } from './image-store.js';
export { decodeChanges, DeliveryOutcome, encodeChanges, type AttemptLine, type DeliveryChange, type RetryChange } from './delivery-change.js';
export { effectiveState, EndpointState, type EndpointHealth, type HealthState, type ManualState } from '@app/domain';
export { awaitConfigApplied, ConfigBarrierResponder, type BarrierOutcome } from './config-barrier.js';
export { AccessTokens, hashToken, namedTokenIdOf, TokenView } from './token-view.js';
export { DeletedProfiles } from './deleted-profiles.js';
export { CameraBindings, moveCamera, openCameraBindings, readCameraBinding, type CameraBinding } from './camera-bindings.js';
export { FilterIndex } from './filter-index.js';
export { RoutingTable } from './routing-table.js';
export { DEFAULT_LEASE_TTL_MS, Lease, Leases, openLeasesBucket } from './lease.js';
export { DEFAULT_PARTITIONS, legacyFloor, partitionOf, PartitionStore } from './partitions.js';
export { DEFAULT_PARTITION_SETTINGS, PartitionedRunner, type PartitionSettings } from './partitioned-runner.js';
export { DeadLetterCommandUnanswered, sendDeadLetterCommand } from './dead-letter-commands.js';
export { WebsocketPositions, type Positions } from './websocket-positions.js';
export {
  AgentCredentialsIssuer,
  agentInboxPrefix,
  agentPermissions,
  ISSUER_FILES,
  issuerSystemPermissions,
  JETSTREAM_ACCOUNT_LIMITS,
  OPEN_ACCOUNT_LIMITS,
  type IssueRequest,
  type IssuedCredentials,
  type IssuerReply,
  type OperatorAccounts,
  type RevokeRequest,
} from './agent-credentials.js';
export { AgentActivity, askAgentActivity, MAX_ACTIVITY_AGENTS, type AgentActivityFigures } from './agent-activity.js';
