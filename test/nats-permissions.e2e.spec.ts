import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import type { AppName } from '../scripts/local-stack.js';
import { freshEvent } from './support/fixtures.js';
import { expectRefused, expectRefusedSubscription } from './support/nats-attack.js';
import { LayoutStack } from './support/layout-stack.js';
import { natsLayout } from './support/nats-layout.js';
import { Receiver } from './support/receiver.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { replayEnded, startReplay } from './support/replays.js';
import { TestClient } from './support/ws-client.js';

/** The shipped permission layout, used as it is (its subjects carry the default prefix); its users, and its example agent. */
const { exampleAgentId: agentId } = natsLayout();
const agentUser = `agent-${agentId}`;
const otherAgentId = randomUUID();
const encoder = new TextEncoder();
/** Subjects an app user was refused on purpose here (its log lines are no fault of the app). */
const triedOnPurpose: string[] = [];

/** Creates (or would) a durable consumer by name and filter, as the apps do. */
async function createDurable(connection: NatsConnection, stream: string, name: string, filter: string): Promise<unknown> {
  return (await jetstreamManager(connection, { checkAPI: false })).consumers.add(stream, { durable_name: name, filter_subject: filter, ack_policy: AckPolicy.Explicit });
}

/**
 * The NATS permission layout shipped in deploy/nats (docs/operations.md):
 * the whole pipeline runs through a nats-server of this test's own with
 * that config, over TLS, each app with its own user and inbox prefix; no
 * app's request is refused (so an app that starts using a subject outside
 * its grant fails here); an agent may publish its own events and nothing else.
 */
describe('the shipped NATS permission layout', () => {
  const receivers: Receiver[] = [];
  let layout: LayoutStack;
  let stack: TestStack;
  /** An image ingest stored, which the agent then tries to read. */
  let storedImage: string;
  const connectAs = (user: string, inboxPrefix: string) => layout.connectAs(user, inboxPrefix);

  beforeAll(async () => {
    // Small streams, so that each app's trimmer soon purges what its consumers read (the padded events below). The
    // gateway reads with its shared feed (every websocket delivery); nats-permissions.long reads a feed per endpoint.
    layout = await LayoutStack.start({ STREAM_MAX_BYTES: '64KiB', WS_SHARED_FEED_ENDPOINTS: '1' });
    stack = layout.stack;
  });

  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await layout?.stop();
  });

  async function webhookEndpoint(status: number): Promise<{ receiver: Receiver; id: string }> {
    const receiver = await Receiver.start(() => ({ status }));
    receivers.push(receiver);
    return { receiver, id: await stack.createWebhookEndpoint(receiver.url) };
  }

  it("refuses each app a grant it must not have: another app's durable, the image store's purge, another app's subjects and inbox", async () => {
    const tries: Array<[AppName, (connection: NatsConnection) => Promise<unknown>, string]> = [
      ['api', (connection) => createDurable(connection, 'ES_DELIVERIES', 'webhook-dispatcher', 'es.deliveries.hook.*'), '$JS.API.CONSUMER.CREATE.ES_DELIVERIES.webhook-dispatcher'],
      ['websocket-gateway', (connection) => createDurable(connection, 'ES_DELIVERIES', 'webhook-dispatcher', 'es.deliveries.ws.>'), '$JS.API.CONSUMER.CREATE.ES_DELIVERIES.webhook-dispatcher'],
      // Replay jobs read the routable events through ordered consumers, never the router's durable.
      ['webhook-dispatcher', (connection) => createDurable(connection, 'ES_ROUTABLE', 'filter-router', 'es.routable'), '$JS.API.CONSUMER.CREATE.ES_ROUTABLE.filter-router'],
      ['ingest', async (connection) => (await jetstreamManager(connection, { checkAPI: false })).streams.purge('OBJ_es_images'), '$JS.API.STREAM.PURGE.OBJ_es_images'],
      // Only the reader of a stream reconfigures it: the gateway could otherwise shrink the dispatcher's deliveries away.
      ['websocket-gateway', async (connection) => (await jetstreamManager(connection, { checkAPI: false })).streams.update('ES_DELIVERIES', { max_msgs: 1 }), '$JS.API.STREAM.UPDATE.ES_DELIVERIES'],
      ['ingest', (connection) => jetstream(connection).publish('es.events.profiles.deleted', encoder.encode('{}')), 'es.events.profiles.deleted'],
      ['profile-sync', (connection) => jetstream(connection).publish(`es.deliveries.hook.${randomUUID()}`, encoder.encode('{}')), 'es.deliveries.hook.'],
      ['filter-router', (connection) => jetstream(connection).publish(`$KV.es_config.endpoints.${randomUUID()}`, encoder.encode('{}')), '$KV.es_config.endpoints.'],
      ['webhook-dispatcher', (connection) => jetstream(connection).publish(`_INBOX_api.${randomUUID()}`, encoder.encode('{}')), '_INBOX_api.'],
      // Sealed secrets and token hashes: only the apps that use them read their buckets.
      ['filter-router', async (connection) => (await new Kvm(connection).open('es_secrets', { allow_direct: true })).get(`secrets.${randomUUID()}`), '$JS.API.'],
      ['filter-router', async (connection) => (await new Kvm(connection).open('es_tokens', { allow_direct: true })).get(`tokens.${randomUUID()}`), '$JS.API.'],
      ['websocket-gateway', async (connection) => (await new Kvm(connection).open('es_secrets', { allow_direct: true })).watch(), '$JS.API.'],
      ['webhook-dispatcher', async (connection) => (await new Kvm(connection).open('es_tokens', { allow_direct: true })).watch(), '$JS.API.'],
      ['ingest', async (connection) => (await new Kvm(connection).open('es_config', { allow_direct: true })).watch(), '$JS.API.CONSUMER.CREATE.KV_es_config.'],
      ['webhook-dispatcher', (connection) => jetstream(connection).publish(`es.barrier.api.${randomUUID().replaceAll('-', '')}`, encoder.encode('{}')), 'es.barrier.api.'],
    ];
    for (const [app, action, subject] of tries) {
      const connection = await connectAs(app, `_INBOX_${app}`);
      triedOnPurpose.push(await expectRefused(action(connection), subject));
    }
  });

  it('runs the whole pipeline over TLS, each app with its own user: HTTP and NATS agents, images, websockets, webhooks, endpoint health, tokens, dead letters (listed, resubmitted, discarded), trimming, replay', async () => {
    const camera = randomUUID();
    const websocketEndpoint = await stack.createWebsocketEndpoint();
    const hook = await webhookEndpoint(204);
    const gone = await webhookEndpoint(410);
    const goneCamera = randomUUID();
    await stack.createEventFilter({ endpointIds: [websocketEndpoint, hook.id, gone.id], in: { cameraIds: [camera] } });
    await stack.createEventFilter({ endpointIds: [gone.id], in: { cameraIds: [goneCamera] } });
    await stack.waitForConfig();
    const client = await TestClient.connect(stack.websocketUrl(websocketEndpoint));
    const agent = jetstream(await connectAs(agentUser, `_INBOX_${agentId}`));
    const platform = jetstream(await connectAs('platform', '_INBOX_platform'));

    // The platform's lifecycle, then an event over HTTP with an image, then one an agent publishes over NATS.
    const profile = await platform.publish('es.events.profiles.upserted', encoder.encode(JSON.stringify({ id: randomUUID(), profile_groups: [] })));
    expect(profile.stream).toBe('ES_EVENTS');
    const face = randomBytes(2_000);
    const withImage = freshEvent({ withoutLinks: true, agentId });
    withImage.camera.id = camera;
    withImage.images = { image: { content_type: 'image/jpeg', data: face.toString('base64') } };
    expect((await stack.postEvent(JSON.stringify(withImage))).status).toBe(202);
    const overNats = freshEvent({ agentId });
    overNats.camera.id = camera;
    const ack = await agent.publish(`es.agents.${agentId}.events`, encoder.encode(JSON.stringify(overNats)));
    expect(ack.stream).toBe('ES_INGRESS');

    await client.waitForEvents(2);
    expect(client.eventIds().sort()).toEqual([withImage.event.id, overNats.event.id].sort());
    await waitFor(() => hook.receiver.requests.length === 2, { what: 'both webhook deliveries' });
    expect(hook.receiver.requests.map((request) => request.headers['webhook-id']).sort()).toEqual([withImage.event.id, overNats.event.id].sort());
    const delivered = client.events.find((event) => event.event.id === withImage.event.id)!;
    storedImage = delivered.event.image as string;
    const image = await fetch(stack.url('api', `/event-service/get-image/${storedImage}`), { headers: { Token: stack.token } });
    expect(Buffer.from(await image.arrayBuffer())).toEqual(face);
    // The dispatcher's health record of an endpoint that answered 410.
    await waitFor(
      async () => (await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { collectionItems { state } } }', { id: gone.id })).data.endpoints.collectionItems[0].state === 'DISABLED_GONE',
      { what: 'the endpoint that answered 410 to be disabled' },
    );

    // A named token: the api writes it to the config bucket, ingest reads it there; its revocation returns once every
    // api and ingest replica has answered the token barrier.
    const created = await stack.graphql('mutation($agentIds: [String!]) { createApiToken(name: "agent", scope: AGENT, agentIds: $agentIds) { token apiToken { id } } }', {
      agentIds: [agentId],
    });
    const { token, apiToken } = created.data.createApiToken as { token: string; apiToken: { id: string } };
    const withToken = freshEvent({ agentId });
    withToken.camera.id = goneCamera;
    expect((await stack.postEvent(JSON.stringify(withToken), token)).status).toBe(202);
    expect((await stack.graphql('mutation($id: ID!) { revokeApiToken(id: $id) { id } }', { id: apiToken.id })).errors).toBeUndefined();
    expect((await stack.postEvent(JSON.stringify(withToken), token)).status).toBe(401);

    // What can never succeed is dead-lettered by the app that read it.
    await agent.publish(`es.agents.${agentId}.events`, encoder.encode('not json'));
    const nats = await stack.natsClient();
    await waitFor(async () => (await nats.manager.streams.getMessage('ES_DEAD_LETTERS', { last_by_subj: 'es.dead.ingest' }).catch(() => null)) !== null, {
      what: "ingest's dead letter",
    });
    // Projected by the dispatcher, resubmitted by it onto the agent's subject (where ingest refuses it again), then discarded.
    const ingestLetters = async (state: string) =>
      (await stack.graphql('query($state: DeadLetterState) { deadLetters(filters: { app: { exact: "ingest" }, state: { exact: $state } }) { totalCount } }', { state })).data.deadLetters
        .totalCount as number;
    await waitFor(async () => (await ingestLetters('OPEN')) === 1, { what: "ingest's dead letter listed" });
    expect((await stack.graphql('mutation { resubmitDeadLetters(filters: { app: { exact: "ingest" } }) }')).data.resubmitDeadLetters).toBe(1);
    await waitFor(async () => (await ingestLetters('OPEN')) === 1 && (await ingestLetters('RESUBMITTED')) === 1, { what: 'the resubmitted event dead-lettered again' });
    expect((await stack.graphql('mutation { discardDeadLetters(filters: { app: { exact: "ingest" } }) }')).data.discardDeadLetters).toBe(1);

    // Padded events (kept as sent: the schema keeps fields it does not know) for the disabled endpoint, whose records carry
    // them too, one at a time until each trimmed stream has been trimmed by the app that reads it. Each waits for the one
    // before it to be read everywhere and for every stream to be below its trimming point, so none is ever full.
    const readers = [
      ['ES_INGRESS', 'ingest'],
      ['ES_EVENTS', 'profile-sync'],
      ['ES_ROUTABLE', 'filter-router'],
      ['ES_DELIVERIES', 'webhook-dispatcher'],
      ['ES_ATTEMPTS', 'delivery-projector'],
    ] as const;
    const trimmed = new Set<string>();
    for (let sent = 0; trimmed.size < readers.length; sent += 1) {
      expect(sent).toBeLessThan(30);
      const event = freshEvent({ agentId });
      event.camera.id = goneCamera;
      event.padding = 'x'.repeat(6_000);
      await agent.publish(`es.agents.${agentId}.events`, encoder.encode(JSON.stringify(event)));
      await waitFor(
        async () => {
          for (const [stream, consumer] of readers) {
            // ingest, profile-sync, filter-router and the dispatcher read in partitions: no durable consumer.
            if (consumer === 'webhook-dispatcher') {
              if (!(await stack.caughtUp(stream, consumer, 'es.deliveries.hook.*'))) return false;
              continue;
            }
            if (['ingest', 'profile-sync', 'filter-router'].includes(consumer)) {
              if (!(await stack.caughtUp(stream, consumer))) return false;
              continue;
            }
            const info = await nats.manager.consumers.info(stream, consumer);
            if (info.num_pending + info.num_ack_pending > 0) return false;
          }
          return true;
        },
        { what: `event ${sent} to be read everywhere` },
      );
      await waitFor(
        async () => {
          let below = true;
          for (const [stream] of readers) {
            const { state, config } = await nats.manager.streams.info(stream);
            if (state.first_seq > 1) trimmed.add(stream);
            below &&= state.bytes < config.max_bytes * 0.8;
          }
          return below;
        },
        { what: `every stream to be trimmed below 80% (trimmed so far: ${[...trimmed].join(', ') || 'none'})` },
      );
    }

    // Last: a replay job runs in the dispatcher under its own NATS user: a lease, an ordered consumer of the
    // endpoint's deliveries, the deleted profiles, the deliveries published again; a re-route dry run reads the routable events.
    const from = new Date();
    const replayedEvent = freshEvent({ agentId });
    replayedEvent.camera.id = camera;
    expect((await stack.postEvent(JSON.stringify(replayedEvent))).status).toBe(202);
    await waitFor(() => hook.receiver.requests.length === 3, { what: 'the delivery to replay' });
    const graphql = stack.graphql.bind(stack);
    const replayed = await replayEnded(graphql, (await startReplay(graphql, { kind: 'REDELIVER', endpointId: hook.id, from, to: new Date() })).id);
    expect(replayed).toMatchObject({ state: 'SUCCEEDED', sent: 1 });
    await waitFor(() => hook.receiver.requests.length === 4, { what: 'the replayed delivery' });
    expect(hook.receiver.requests.at(-1)!.headers['webhook-id']).toBe(replayedEvent.event.id);
    const rerouted = await replayEnded(graphql, (await startReplay(graphql, { kind: 'REROUTE', from, to: new Date(), dryRun: true })).id);
    expect(rerouted).toMatchObject({ state: 'SUCCEEDED', done: 1, sent: 0 });
    client.close();
  });

  it("refuses an agent everything but its own events and acks: others' subjects and acks, events, deliveries, lifecycle, the config bucket, the image store", async () => {
    const connection = await connectAs(agentUser, `_INBOX_${agentId}`);
    const agent = jetstream(connection);

    const ack = await agent.publish(`es.agents.${agentId}.events`, encoder.encode(JSON.stringify(freshEvent({ agentId }))));
    expect(ack).toMatchObject({ stream: 'ES_INGRESS', duplicate: false });

    await expectRefusedSubscription(connection, 'es.events.>');
    await expectRefusedSubscription(connection, 'es.deliveries.>');
    await expectRefusedSubscription(connection, `_INBOX_${otherAgentId}.>`);
    await expectRefusedSubscription(connection, '_INBOX.>');

    await expectRefused(agent.publish(`es.deliveries.ws.${randomUUID()}.${randomUUID()}`, encoder.encode('{}')), 'es.deliveries.ws.');
    await expectRefused(agent.publish('es.events.profiles.deleted', encoder.encode(JSON.stringify({ id: randomUUID() }))), 'es.events.profiles.deleted');
    await expectRefused(agent.publish('es.events.profiles.upserted', encoder.encode(JSON.stringify({ id: randomUUID(), profile_groups: [] }))), 'es.events.profiles.upserted');
    await expectRefused(agent.publish(`es.agents.${otherAgentId}.events`, encoder.encode(JSON.stringify(freshEvent({ agentId: otherAgentId })))), `es.agents.${otherAgentId}.events`);

    // Bound without a request of its own (allow_direct: the bucket's reads are direct gets), so that each refusal is the read or write itself.
    const bucket = await new Kvm(connection).open('es_config', { allow_direct: true });
    await expectRefused(bucket.get('published'), '$JS.API.DIRECT.GET.KV_es_config.$KV.es_config.published');
    await expectRefused(bucket.put(`endpoints.${randomUUID()}`, '{}'), '$KV.es_config.endpoints.');
    await expectRefused(bucket.watch(), '$JS.API.CONSUMER.CREATE.KV_es_config.');

    const manager = await jetstreamManager(connection, { checkAPI: false });
    const imageMeta = `$O.es_images.M.${Buffer.from(String(storedImage)).toString('base64url')}`;
    await expectRefused(manager.streams.getMessage('OBJ_es_images', { last_by_subj: imageMeta }), '$JS.API.STREAM.MSG.GET.OBJ_es_images');
    await expectRefused(manager.direct.getMessage('OBJ_es_images', { last_by_subj: imageMeta }), `$JS.API.DIRECT.GET.OBJ_es_images.${imageMeta}`);
    await expectRefused(new Objm(connection).open('es_images'), '$JS.API.');
    await expectRefusedSubscription(connection, '$O.es_images.>');
    await expectRefused(agent.publish(`$O.es_images.C.${randomUUID().replaceAll('-', '')}`, randomBytes(100)), '$O.es_images.C.');
  });

  it('lets the profile publisher publish the lifecycle, and nothing else', async () => {
    const platform = jetstream(await connectAs('platform', '_INBOX_platform'));
    const ack = await platform.publish('es.events.profiles.deleted', encoder.encode(JSON.stringify({ id: randomUUID() })));
    expect(ack.stream).toBe('ES_EVENTS');
    await expectRefused(platform.publish('es.events.ingested', encoder.encode(JSON.stringify(freshEvent()))), 'es.events.ingested');
    await expectRefused(platform.publish(`es.agents.${agentId}.events`, encoder.encode(JSON.stringify(freshEvent({ agentId })))), `es.agents.${agentId}.events`);
  });

  it('refused no app anything: the server logged no violation but those of the agent and the profile publisher', async () => {
    // The log is this server's, and records refusals: one made here shows in it.
    const platform = jetstream(await connectAs('platform', '_INBOX_platform'));
    await expectRefused(platform.publish('es.routable', encoder.encode('{}')), 'es.routable');
    const violations = await waitFor(
      () => {
        const lines = readFileSync(layout.logFile, 'utf8').split('\n').filter((line) => line.includes('Violation'));
        return lines.some((line) => line.includes('User "platform", Subject "es.routable"')) ? lines : null;
      },
      { what: "the server to log the profile publisher's refusal" },
    );
    // Run last: an app's refused request shows here even when the app coped with it.
    const unexpected = violations.filter((line) => !line.includes(`User "${agentUser}"`) && !line.includes('User "platform"'));
    expect(unexpected.filter((line) => !triedOnPurpose.some((subject) => line.includes(`Subject "${subject}"`)))).toEqual([]);
  });
});
