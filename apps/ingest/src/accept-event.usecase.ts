import { Inject, Injectable, Logger } from '@nestjs/common';
import { decodeEvent, eventMessageId, fillImageLinks, idKey, routingFieldsOf, type AgentEvent, type EventRejection, type LinkSigning } from '@app/events';
import { AgentActivity, CameraBindings, Headers, NatsClient, publishDurably, routingHeaders, type HandleContext } from '@app/messaging';
import { eventLog } from '@app/runtime';
import { EventImagesStore, type Attachment } from './event-images.store.js';
import { INGEST_CONFIG } from './ingest.tokens.js';
import type { IngestConfig } from './ingest.config.js';
import { IngestMetrics, type IngestSource } from './ingest.metrics.js';

export type AcceptResult =
  | { accepted: true; eventId: string; agentKey: string; duplicate: boolean }
  | { accepted: false; rejection: EventRejection };

const encoder = new TextEncoder();

/**
 * Validates one agent event, fills the image links it lacks and stores it in
 * the events stream. Resolves only once JetStream has stored it; throws
 * PublishUnavailableError when it could not.
 */
@Injectable()
export class AcceptEvent {
  private readonly logger = new Logger(AcceptEvent.name);

  constructor(
    private readonly nats: NatsClient,
    private readonly images: EventImagesStore,
    private readonly cameras: CameraBindings,
    private readonly metrics: IngestMetrics,
    private readonly activity: AgentActivity,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
  ) {}

  /**
   * `source`: where the event came in (for the metrics); `files`: images that came as multipart files
   * rather than in the event's `images` field; `agentIds`: the agents (keys, idKey) the sender may post for (empty: any);
   * `order`: the partitioned consumer's (an event from the agent's NATS subject): stored after the camera's earlier events.
   */
  async execute(source: IngestSource, body: Uint8Array, files: Attachment[] = [], agentIds: readonly string[] = [], order?: Pick<HandleContext, 'orderBy'>): Promise<AcceptResult> {
    const result = await this.accept(body, files, agentIds, order);
    if (!result.accepted) {
      this.metrics.reject(result.rejection.code);
      return result;
    }
    if (!result.duplicate) {
      this.metrics.ingested.inc({ source });
      this.activity.accepted(result.agentKey);
    }
    this.logger.debug(`accepted from ${source}${result.duplicate ? ' (a duplicate: stored already)' : ''}`, ...eventLog(idKey(result.eventId)));
    return result;
  }

  private async accept(body: Uint8Array, files: Attachment[], agentIds: readonly string[], order?: Pick<HandleContext, 'orderBy'>): Promise<AcceptResult> {
    const decoded = decodeEvent(body, this.config.INGEST_MAX_BODY_BYTES);
    if (!decoded.ok) {
      return { accepted: false, rejection: decoded.rejection };
    }
    const { event } = decoded;
    const agentKey = idKey(event.camera.agent_id);
    if (agentIds.length > 0 && !agentIds.includes(agentKey)) {
      const message = `camera.agent_id: this sender may post events of ${agentIds.length === 1 ? `agent ${agentIds[0]}` : `${agentIds.length} agents`} only`;
      return { accepted: false, rejection: { code: 'FORBIDDEN', field: 'camera.agent_id', message } };
    }
    // Before the first await: the event takes its place among its camera's in the order it was read.
    const turn = order?.orderBy(idKey(event.camera.id));
    return this.storeEvent(event, body, files, turn);
  }

  /** With IMAGE_ACCESS=signed: links signed until the image expires with the event (STREAM_MAX_AGE). */
  private linkSigning(): LinkSigning | undefined {
    const key = this.config.IMAGE_LINK_KEY;
    return key ? { key, expiresAt: Math.floor((Date.now() + this.config.STREAM_MAX_AGE) / 1_000) } : undefined;
  }

  private async storeEvent(event: AgentEvent, body: Uint8Array, files: Attachment[], turn?: Promise<void>): Promise<AcceptResult> {
    const hadImages = 'images' in event || files.length > 0;
    const attachments = this.images.attachmentsOf(event, files, this.config.INGEST_MAX_IMAGE_BYTES);
    if (!Array.isArray(attachments)) return { accepted: false, rejection: attachments };
    // The images' ids are known before they are stored: an event refused for its size stores none.
    const images = this.images.assign(event, attachments);
    const changed = fillImageLinks(event, this.config.PUBLIC_BASE_URL, this.linkSigning()) || hadImages;
    // Unchanged events travel as the very bytes the agent sent.
    const payload = changed ? encoder.encode(JSON.stringify(event)) : body;
    if (payload.byteLength > this.config.INGEST_MAX_EVENT_BYTES) {
      const message = `event is ${payload.byteLength} bytes without its images; the limit is ${this.config.INGEST_MAX_EVENT_BYTES}`;
      return { accepted: false, rejection: { code: 'PAYLOAD_TOO_LARGE', field: null, message } };
    }
    // A camera belongs to the first agent that reported it (or where an ADMIN moved it): another agent cannot speak for
    // it. Claimed only by an event otherwise fit to store.
    const claim = this.config.CAMERA_BINDING === 'off' ? 'mine' : await this.cameras.claim(idKey(event.camera.id), idKey(event.camera.agent_id));
    if (claim === 'too-many') {
      const message = `camera.id: agent ${idKey(event.camera.agent_id)} has ${this.config.INGEST_MAX_CAMERAS_PER_AGENT} cameras already (INGEST_MAX_CAMERAS_PER_AGENT)`;
      return { accepted: false, rejection: { code: 'TOO_MANY_CAMERAS', field: 'camera.id', message } };
    }
    if (claim !== 'mine') {
      const message = `camera.id: camera ${idKey(event.camera.id)} belongs to another agent (an ADMIN moves it with moveCamera)`;
      return { accepted: false, rejection: { code: 'CAMERA_OF_ANOTHER_AGENT', field: 'camera.id', message } };
    }
    await this.images.save(images);
    // De-duplicated by the agent's and the id's keys: the same event re-sent with its id in another case is stored once,
    // and another agent's event with the same id is an event of its own.
    const eventKey = idKey(event.event.id);
    await turn;
    const ack = await publishDurably(this.nats, this.nats.topology.ingestedEvents, payload, {
      messageId: eventMessageId(event.camera.agent_id, event.event.id),
      headers: { ...routingHeaders(eventKey, routingFieldsOf(event)), [Headers.acceptedAt]: String(Date.now()) },
      timeoutMs: 2_000,
    });
    return { accepted: true, eventId: event.event.id, agentKey: idKey(event.camera.agent_id), duplicate: ack.duplicate };
  }
}
