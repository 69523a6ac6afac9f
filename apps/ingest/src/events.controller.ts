import { Controller, HttpStatus, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { EventRejection } from '@app/events';
import { PublishUnavailableError, StreamFullError } from '@app/messaging';
import { AcceptEvent } from './accept-event.usecase.js';
import { AgentTokenGuard } from './agent-token.guard.js';
import type { IngestConfig } from './ingest.config.js';
import { INGEST_CONFIG } from './ingest.tokens.js';
import type { Attachment } from './event-images.store.js';
import { readBody, BodyTooLargeError } from './read-body.js';
import { readMultipart } from './read-multipart.js';
import { IngestMetrics } from './ingest.metrics.js';

const STATUS: Record<EventRejection['code'], HttpStatus> = {
  MALFORMED_JSON: HttpStatus.BAD_REQUEST,
  INVALID_EVENT: HttpStatus.BAD_REQUEST,
  PAYLOAD_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  FORBIDDEN: HttpStatus.FORBIDDEN,
  DUPLICATE_KEY: HttpStatus.BAD_REQUEST,
  CAMERA_OF_ANOTHER_AGENT: HttpStatus.FORBIDDEN,
  TOO_MANY_CAMERAS: HttpStatus.FORBIDDEN,
};
const statusOf = (rejection: EventRejection): HttpStatus => STATUS[rejection.code];

/** `POST /event-service/events`: one event in the seed's format per request. */
@Controller('event-service/events')
@UseGuards(AgentTokenGuard)
export class EventsController {
  constructor(
    private readonly acceptEvent: AcceptEvent,
    private readonly metrics: IngestMetrics,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
  ) {}

  @Post()
  async create(@Req() request: Request, @Res() response: Response): Promise<void> {
    const limit = this.config.INGEST_MAX_BODY_BYTES;
    let body: Buffer;
    let files: Attachment[] = [];
    try {
      if (request.headers['content-type']?.startsWith('multipart/form-data')) {
        if (Number(request.headers['content-length']) > limit) throw new BodyTooLargeError(`body is over the limit of ${limit} bytes`);
        const parts = await readMultipart(request, { bodyBytes: limit, eventBytes: this.config.INGEST_MAX_EVENT_BYTES, imageBytes: this.config.INGEST_MAX_IMAGE_BYTES });
        if (!parts.ok) {
          this.metrics.reject(parts.rejection.code);
          response.status(statusOf(parts.rejection)).json(parts.rejection);
          return;
        }
        body = parts.event;
        files = parts.files;
      } else {
        body = await readBody(request, limit);
      }
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        this.metrics.reject('PAYLOAD_TOO_LARGE');
        response.status(HttpStatus.PAYLOAD_TOO_LARGE).json({ code: 'PAYLOAD_TOO_LARGE', field: null, message: error.message });
        return;
      }
      throw error;
    }
    try {
      const result = await this.acceptEvent.execute('http', body, files, request.principal?.agentIds);
      if (!result.accepted) {
        response.status(statusOf(result.rejection)).json(result.rejection);
        return;
      }
      response.status(HttpStatus.ACCEPTED).json({ id: result.eventId, duplicate: result.duplicate });
    } catch (error) {
      if (error instanceof PublishUnavailableError) {
        // Never 2xx for an event that is not stored: the agent retries it later.
        response
          .status(HttpStatus.SERVICE_UNAVAILABLE)
          .setHeader('Retry-After', String(this.config.INGEST_RETRY_AFTER_SECONDS))
          .json(
            error instanceof StreamFullError
              ? { code: 'STORE_FULL', field: null, message: 'the event store is full of events not yet delivered; retry later' }
              : { code: 'STORE_UNAVAILABLE', field: null, message: 'the event store cannot take the event now; retry later' },
          );
        return;
      }
      throw error;
    }
  }
}
