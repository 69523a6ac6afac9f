import { Controller, Get, Inject, NotFoundException, Param, Req, Res, UnauthorizedException, type OnModuleInit } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ObjectStore } from '@nats-io/obj';
import { idKey, IMAGE_CONTENT_TYPES, verifyImageLink } from '@app/events';
import { readsEverything } from '@app/domain';
import { AccessTokens, hasImageChunks, IMAGE_CONTENT_TYPE, NatsClient, openImageStore } from '@app/messaging';
import { DeadlineExceededError, withDeadline } from '@app/runtime';
import type { ApiConfig } from './api.config.js';
import { API_CONFIG, API_TOKENS } from './api.tokens.js';
import { DashboardSessions } from './dashboard/dashboard-sessions.js';

const IMAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Reading one image's chunks takes at most this: past it, they expired while it was read (404), rather than a request that never ends. */
const READ_TIMEOUT_MS = 10_000;

/**
 * `GET /event-service/get-image/<id>`: the images agents attached to events.
 * Ids are random UUIDs (capability URLs); with IMAGE_ACCESS=signed a link
 * needs ingest's signature (until it expires) or a token as well. An image
 * never changes, so it is cached for as long as clients like. Unknown and
 * expired ids get 404.
 * Ingest names each image by its id's key (lower case), so an id in any case finds it.
 */
@Controller('event-service/get-image')
export class ImagesController implements OnModuleInit {
  private store!: ObjectStore;

  constructor(
    private readonly nats: NatsClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(API_TOKENS) private readonly tokens: AccessTokens,
    private readonly sessions: DashboardSessions,
  ) {}

  async onModuleInit(): Promise<void> {
    this.store = await openImageStore(this.nats);
  }

  /**
   * IMAGE_ACCESS=link: anyone with the link; signed: a valid, unexpired
   * signature, or an ADMIN or unscoped READ_ONLY token (a header, or the
   * dashboard's session). An image belongs to no endpoint, so a token scoped
   * to endpoints reads it through its signed link only.
   */
  private mayRead(id: string, request: Request): boolean {
    const key = this.config.IMAGE_LINK_KEY;
    if (!key) return true;
    if (verifyImageLink(key, id, request.query['expires'], request.query['signature'], Math.floor(Date.now() / 1_000))) return true;
    const principal = this.tokens.resolve(this.sessions.tokenOf(request));
    return principal !== null && readsEverything(principal);
  }

  @Get(':id')
  async image(@Param('id') id: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    if (!this.mayRead(id, request)) {
      throw new UnauthorizedException({ code: 'UNAUTHENTICATED', message: 'a signed link that has not expired, or a valid token (header Token or Authorization: Bearer), is required' });
    }
    const key = IMAGE_ID.test(id) ? idKey(id) : null;
    const info = key ? await this.store.info(key) : null;
    if (!key || !info || info.deleted) throw new NotFoundException({ code: 'NOT_FOUND', message: 'no image has this id (or it expired)' });
    const data = await this.read(key, info.nuid);
    if (!data) throw new NotFoundException({ code: 'NOT_FOUND', message: 'no image has this id (or it expired)' });
    const stored = info.metadata?.[IMAGE_CONTENT_TYPE] ?? '';
    const contentType = (IMAGE_CONTENT_TYPES as readonly string[]).includes(stored) ? stored : 'application/octet-stream';
    response
      .status(200)
      .set({
        'content-type': contentType,
        'content-length': String(data.byteLength),
        'cache-control': `private, max-age=${Math.floor(this.config.STREAM_MAX_AGE / 1_000)}, immutable`,
        etag: `"${info.digest}"`,
        'x-content-type-options': 'nosniff',
      })
      .end(Buffer.from(data));
  }

  /**
   * The image's bytes; null when its chunks are gone. They expire a moment
   * before its description (written after them): the object store's reader
   * would then wait for chunks that never come, so they are looked for first,
   * and the read is bounded besides (they may expire while it reads).
   */
  private async read(key: string, nuid: string): Promise<Uint8Array | null> {
    if (!(await hasImageChunks(this.nats, nuid))) return null;
    const result = await this.store.get(key);
    if (!result) return null;
    // Seen, whatever it comes to: a read given up (below) must not leave its failure unhandled.
    result.error.catch(() => undefined);
    const reader = result.data.getReader();
    const readAll = async (): Promise<Uint8Array> => {
      const parts: Uint8Array[] = [];
      for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(next.value);
      // The digest checked: a corrupt object is an error, not an image.
      await result.error;
      return Buffer.concat(parts);
    };
    return withDeadline(readAll(), READ_TIMEOUT_MS, () => void reader.cancel().catch(() => undefined)).catch((error: unknown) => {
      if (error instanceof DeadlineExceededError) return null;
      throw error;
    });
  }
}
