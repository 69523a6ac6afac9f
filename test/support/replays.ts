import { expect } from '@jest/globals';
import { Receiver } from './receiver.js';
import type { TestStack } from './stack.js';
import { waitFor } from './wait.js';

/** What the tests read of a replay job. */
export interface ReplayJobView {
  id: string;
  state: string;
  total: number | null;
  done: number;
  sent: number;
  skipped: number;
  reached: Array<{ endpointId: string; events: number }>;
  error: string | null;
  worker: string | null;
}

type Graphql = (query: string, variables?: Record<string, unknown>) => Promise<{ data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>;

const JOB_FIELDS = 'id state total done sent skipped reached { endpointId events } error worker';

/** Starts a replay job through the api; fails the test on a GraphQL error. */
export async function startReplay(
  graphql: Graphql,
  input: { kind: 'REDELIVER' | 'REROUTE'; endpointId?: string; from: Date; to: Date; dryRun?: boolean; ratePerSecond?: number },
): Promise<ReplayJobView> {
  const answer = await graphql(`mutation($input: StartReplayInput!) { startReplay(input: $input) { ${JOB_FIELDS} } }`, {
    input: { ...input, from: input.from.toISOString(), to: input.to.toISOString() },
  });
  expect(answer.errors).toBeUndefined();
  return answer.data.startReplay as ReplayJobView;
}

export async function replayJob(graphql: Graphql, id: string): Promise<ReplayJobView> {
  const answer = await graphql(`query($id: ID!) { replayJob(id: $id) { ${JOB_FIELDS} } }`, { id });
  expect(answer.errors).toBeUndefined();
  return answer.data.replayJob as ReplayJobView;
}

/** Waits for the job to end (SUCCEEDED, FAILED or CANCELLED) and returns it as it ended. */
export async function replayEnded(graphql: Graphql, id: string, timeoutMs = 60_000): Promise<ReplayJobView> {
  let job: ReplayJobView | null = null;
  await waitFor(
    async () => {
      job = await replayJob(graphql, id);
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.state);
    },
    { timeoutMs, what: `replay ${id} to end` },
  );
  return job!;
}

/** A job's deliveries by endpoint, as a plain object (for comparing a dry run with the real run). */
export const reachOf = (job: ReplayJobView): Record<string, number> => Object.fromEntries(job.reached.map(({ endpointId, events }) => [endpointId, events]));

/** A webhook endpoint to a receiver of its own (added to `receivers`, for the suite to close). */
export async function webhookWithReceiver(stack: TestStack, receivers: Receiver[]): Promise<{ receiver: Receiver; endpointId: string }> {
  const receiver = await Receiver.start();
  receivers.push(receiver);
  const endpointId = await stack.createWebhookEndpoint(receiver.url);
  return { receiver, endpointId };
}

/** The `webhook-id` of each request a receiver got, from its `from`-th on. */
export const webhookIdsOf = (receiver: Receiver, from = 0): string[] => receiver.requests.slice(from).map((request) => request.headers['webhook-id'] as string);
