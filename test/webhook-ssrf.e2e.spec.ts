import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshEvent } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';

describe('webhooks never reach internal addresses unless allowed', () => {
  let stack: TestStack;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await Receiver.start();
    // The api lets loopback URLs be saved; the dispatcher is not told to allow them.
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher'],
      appEnv: { api: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' }, 'webhook-dispatcher': { WEBHOOK_RETRY_SCHEDULE: '100ms' } },
    });
  });

  afterAll(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  it.each(['http://10.0.0.7/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/hook', 'http://192.168.1.10:8080/'])(
    'refuses to save %s',
    async (url) => {
      const result = await stack.graphql('mutation($url: String!) { createWebhookEndpoint(name: "internal", url: $url) { id } }', { url });
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
      expect(result.errors?.[0]?.message).toContain('internal address');
    },
  );

  it.each([
    ['an address', () => receiver.url],
    ['a host name (checked as it is resolved for the connection)', () => receiver.url.replace('127.0.0.1', 'localhost')],
  ])('refuses to connect to an internal address the dispatcher does not allow, given as %s, and logs why', async (_case, url) => {
    const endpointId = await stack.createWebhookEndpoint(url(), 'loopback');
    await stack.waitForConfig();
    const event = freshEvent();

    await stack.postEvent(JSON.stringify(event));

    const attempts = await waitFor(
      async () => {
        const { data } = await stack.graphql('query($id: ID!) { deliveryAttempts(filters: { endpointId: { exact: $id } }) { collectionItems { outcome error } } }', { id: endpointId });
        const items = data.deliveryAttempts.collectionItems as Array<{ outcome: string; error: string }>;
        return items.some((item) => item.outcome === 'FAILED') ? items : null;
      },
      { what: 'the delivery to fail' },
    );
    expect(attempts.every((attempt) => attempt.error.startsWith('FORBIDDEN_TARGET'))).toBe(true);
    expect(receiver.requests).toHaveLength(0);
  });
});
