import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { imageLink } from '@app/events';
import { imageChunksSubject, imageDescriptionSubject, imageStoreStream, openImageStore } from '@app/messaging';
import { freshEvent } from './support/fixtures.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

describe('event images', () => {
  /** Opted out of signed links (IMAGE_ACCESS=link): a link is a bare capability URL. */
  let stack: TestStack;
  let client: TestClient;

  beforeAll(async () => {
    stack = await TestStack.start({ env: { IMAGE_ACCESS: 'link' } });
    client = await TestClient.connect(stack.websocketUrl(await stack.createWebsocketEndpoint()));
    await stack.waitForConfig();
  });

  afterAll(async () => {
    client?.close();
    await stack?.stop();
  });

  /** The api's own address for a delivered link (the public base URL is the test's pretend origin). */
  const apiUrlOf = (link: string) => stack.url('api', new URL(link).pathname);

  it('stores the images an agent attaches, and the delivered bare image_link downloads the very bytes it sent, with no credential', async () => {
    const face = randomBytes(3_000);
    const frame = randomBytes(200_000);
    const event = freshEvent({ withoutLinks: true });
    event.images = {
      image: { content_type: 'image/jpeg', data: face.toString('base64') },
      original_image: { content_type: 'image/png', data: frame.toString('base64') },
    };

    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);

    await client.waitForEvents(1);
    const delivered = client.events[0]!;
    expect('images' in delivered).toBe(false);
    expect(delivered.event.image).not.toBe(event.event.image);
    expect(delivered.event.image_link).toBe(`${stack.publicBaseUrl}/event-service/get-image/${delivered.event.image}`);
    const faceResponse = await fetch(apiUrlOf(delivered.event.image_link));
    expect(faceResponse.status).toBe(200);
    expect(faceResponse.headers.get('content-type')).toBe('image/jpeg');
    expect(faceResponse.headers.get('cache-control')).toContain('immutable');
    expect(Buffer.from(await faceResponse.arrayBuffer())).toEqual(face);
    const frameResponse = await fetch(apiUrlOf(delivered.event.original_image_link));
    expect(frameResponse.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await frameResponse.arrayBuffer())).toEqual(frame);
  });

  it('keeps image ids and links an agent sent for images stored elsewhere', async () => {
    const event = freshEvent();
    const before = client.frames.length;

    await stack.postEvent(JSON.stringify(event));

    await client.waitForEvents(before + 1);
    expect(client.events[before]!.event).toEqual(event.event);
  });

  it('leaves no image behind for an event that is refused or is a duplicate of one stored', async () => {
    const store = await openImageStore(await stack.natsClient());
    const names = async () => {
      const names: string[] = [];
      for (const info of await store.list()) names.push(info.name);
      return names.sort();
    };
    const withImage = (event: ReturnType<typeof freshEvent>) => {
      event.images = { image: { content_type: 'image/jpeg', data: randomBytes(2_000).toString('base64') } };
      return event;
    };
    const before = await names();

    // Too large once its images are taken out: refused after they were stored.
    const tooLarge = withImage(freshEvent({ withoutLinks: true })) as Record<string, any>;
    tooLarge.filler = 'x'.repeat(300_000);
    expect((await stack.postEvent(JSON.stringify(tooLarge))).status).toBe(413);
    expect(await names()).toEqual(before);

    // Sent twice (a retry after a lost answer): stored once, with the first copy's images.
    const event = withImage(freshEvent({ withoutLinks: true }));
    const first = await stack.postEvent(JSON.stringify(event));
    const retry = await stack.postEvent(JSON.stringify(event));
    expect(await first.json()).toMatchObject({ duplicate: false });
    expect(await retry.json()).toMatchObject({ duplicate: true });
    expect((await names()).filter((name) => !before.includes(name))).toHaveLength(1);
  });

  it('answers 404 for an unknown image id', async () => {
    expect((await fetch(stack.url('api', `/event-service/get-image/${randomUUID()}`))).status).toBe(404);
    expect((await fetch(stack.url('api', '/event-service/get-image/not-an-id'))).status).toBe(404);
  });

  it('refuses a malformed attachment naming the field, and an unknown image type', async () => {
    for (const [images, field] of [
      [{ image: { content_type: 'image/jpeg', data: '***' } }, 'images.image.data'],
      [{ original_image: { content_type: 'image/gif', data: 'AAAA' } }, 'images.original_image.content_type'],
    ] as const) {
      const response = await stack.postEvent(JSON.stringify({ ...freshEvent(), images }));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'INVALID_EVENT', field });
    }
  });

  it('accepts the event and its images as multipart/form-data', async () => {
    const face = randomBytes(5_000);
    const event = freshEvent({ withoutLinks: true });
    const before = client.frames.length;
    const form = new FormData();
    form.append('event', JSON.stringify(event));
    form.append('image', new Blob([face], { type: 'image/webp' }), 'face.webp');

    const response = await fetch(stack.url('ingest', '/event-service/events'), { method: 'POST', headers: { Token: stack.token }, body: form });

    expect(response.status).toBe(202);
    await client.waitForEvents(before + 1);
    const delivered = client.events[before]!;
    const image = await fetch(apiUrlOf(delivered.event.image_link));
    expect(image.headers.get('content-type')).toBe('image/webp');
    expect(Buffer.from(await image.arrayBuffer())).toEqual(face);
    expect(delivered.event.original_image).toBe(event.event.original_image);
  });

  it('answers 404 at once for an image whose chunks expired before its description (the object store would wait for them)', async () => {
    const face = randomBytes(2_000);
    const event = freshEvent({ withoutLinks: true });
    event.images = { image: { content_type: 'image/jpeg', data: face.toString('base64') } };
    const before = client.events.length;
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    await client.waitForEvents(before + 1);
    const id = new URL(client.events[before]!.event.image_link as string).pathname.split('/').pop()!;
    // Its chunks gone and its description kept: how retention leaves it for a moment (the chunks are older).
    const nats = await stack.natsClient();
    const bucket = nats.topology.imageBucket;
    const described = await nats.manager.streams.getMessage(imageStoreStream(bucket), { last_by_subj: imageDescriptionSubject(bucket, id.toLowerCase()) });
    expect(described).not.toBeNull();
    const { nuid } = JSON.parse(described!.string()) as { nuid: string };
    await nats.manager.streams.purge(imageStoreStream(bucket), { filter: imageChunksSubject(bucket, nuid) });
    // Bounded here so that a hang fails as a hang, not as the suite's timeout.
    const answer = await fetch(stack.url('api', `/event-service/get-image/${id}`), { signal: AbortSignal.timeout(20_000) });
    expect(answer.status).toBe(404);
    expect(((await answer.json()) as { code: string }).code).toBe('NOT_FOUND');
  });

  describe('with a short retention and the default, signed image links', () => {
    const linkKey = randomBytes(32);
    let shortLived: TestStack;

    beforeAll(async () => {
      shortLived = await TestStack.start({
        apps: ['api', 'ingest'],
        env: { STREAM_MAX_AGE: '3s', STREAM_DUPLICATE_WINDOW: '1s', IMAGE_LINK_KEY: linkKey.toString('base64') },
      });
    });

    afterAll(async () => {
      await shortLived?.stop();
    });

    it('serves a signed link without a header (as an <img> asks), refuses a bare, forged or expired one, then answers 404 once the image has expired', async () => {
      const face = randomBytes(1_000);
      const event = freshEvent({ withoutLinks: true });
      event.images = { image: { content_type: 'image/jpeg', data: face.toString('base64') } };
      expect((await shortLived.postEvent(JSON.stringify(event))).status).toBe(202);
      const nats = await shortLived.natsClient();
      // Read by subject, not through a consumer: one request, which cannot wait on a pull.
      const stored = await nats.manager.streams.getMessage(nats.topology.streams.events, { last_by_subj: nats.topology.ingestedEvents });
      expect(stored).not.toBeNull();
      const details = JSON.parse(stored!.string()).event as { image: string; image_link: string };
      const link = new URL(details.image_link);
      expect(link.pathname).toBe(`/event-service/get-image/${details.image}`);
      expect(link.searchParams.get('signature')).toBeTruthy();
      const signed = shortLived.url('api', `${link.pathname}${link.search}`);
      const bare = shortLived.url('api', link.pathname);

      const viaLink = await fetch(signed);
      expect(viaLink.status).toBe(200);
      expect(Buffer.from(await viaLink.arrayBuffer())).toEqual(face);
      expect((await fetch(bare)).status).toBe(401);
      const forged = new URL(signed);
      forged.searchParams.set('expires', String(Number(forged.searchParams.get('expires')) + 3_600));
      expect((await fetch(forged)).status).toBe(401);
      const expired = new URL(imageLink(shortLived.url('api', ''), details.image, { key: linkKey, expiresAt: Math.floor(Date.now() / 1_000) - 1 }));
      expect((await fetch(expired)).status).toBe(401);
      const withToken = await fetch(bare, { headers: { Authorization: `Bearer ${shortLived.token}` } });
      expect(Buffer.from(await withToken.arrayBuffer())).toEqual(face);

      await waitFor(async () => (await fetch(bare, { headers: { Token: shortLived.token } })).status === 404, { timeoutMs: 20_000, intervalMs: 250, what: 'the image to expire' });
    });
  });
});
