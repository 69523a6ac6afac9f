import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../scripts/local-stack.js';

/** The shipped NATS permission layout (docs/operations.md), as docker compose and the NATS Helm chart use it. */
export const NATS_LAYOUT_FILE = join(projectRoot(), 'deploy', 'nats', 'event-service.conf');

/** The layout's text, each user with the environment variable its password comes from, and its example agent's id. */
export function natsLayout(): { text: string; passwordVariables: Map<string, string>; exampleAgentId: string } {
  const text = readFileSync(NATS_LAYOUT_FILE, 'utf8');
  const passwordVariables = new Map([...text.matchAll(/user: "([^"]+)"\s+password: \$(\w+)/g)].map(([, user, variable]) => [user!, variable!]));
  const exampleAgentId = /user: "agent-([0-9a-f-]{36})"/.exec(text)?.[1];
  if (!exampleAgentId) throw new Error(`${NATS_LAYOUT_FILE} has no example agent user (agent-<agent id>)`);
  return { text, passwordVariables, exampleAgentId };
}
