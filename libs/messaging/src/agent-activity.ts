import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Subscription } from '@nats-io/transport-node';
import type { NatsClient } from './nats-connection.js';

/** What ingest accepted of an agent lately: when its last event was accepted (ms since the epoch) and how many in the last minute. */
export interface AgentActivityFigures {
  lastEventAt: number | null;
  lastMinute: number;
}

/** The question: what did you accept of these agents (keys)? Answered on `<p>.barrier.ingest.<id>`, a subject of ingest's own. */
interface ActivityQuestion {
  id: string;
  agentIds: string[];
}
interface ActivityAnswer {
  replica: string;
  agents: Record<string, AgentActivityFigures>;
}

const SECONDS = 60;
/** Agents asked about at once (a page of the agents query). */
export const MAX_ACTIVITY_AGENTS = 1_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One ingest replica's count of the events it accepted, by agent: the last
 * one's time and a count per second over the last minute (a ring of 60
 * slots). In memory only, one map lookup per event; the api asks every
 * replica (askAgentActivity) and adds their answers up.
 */
export class AgentActivity {
  private readonly agents = new Map<string, { lastAt: number; counts: number[]; seconds: number[] }>();
  private readonly replica = randomUUID();
  private subscription: Subscription | null = null;
  private readonly logger = new Logger(AgentActivity.name);

  accepted(agentKey: string, at = Date.now()): void {
    let agent = this.agents.get(agentKey);
    if (!agent) {
      agent = { lastAt: at, counts: new Array<number>(SECONDS).fill(0), seconds: new Array<number>(SECONDS).fill(-1) };
      this.agents.set(agentKey, agent);
    }
    agent.lastAt = Math.max(agent.lastAt, at);
    const second = Math.floor(at / 1_000);
    const slot = second % SECONDS;
    if (agent.seconds[slot] !== second) {
      agent.seconds[slot] = second;
      agent.counts[slot] = 0;
    }
    agent.counts[slot]! += 1;
  }

  figures(agentKey: string, now = Date.now()): AgentActivityFigures {
    const agent = this.agents.get(agentKey);
    if (!agent) return { lastEventAt: null, lastMinute: 0 };
    const current = Math.floor(now / 1_000);
    let lastMinute = 0;
    for (let slot = 0; slot < SECONDS; slot += 1) if (current - agent.seconds[slot]! < SECONDS) lastMinute += agent.counts[slot]!;
    return { lastEventAt: agent.lastAt, lastMinute };
  }

  /** Answers the api's questions (askAgentActivity) on `<p>.activity.agents`. */
  answer(client: NatsClient): void {
    this.subscription = client.connection.subscribe(client.topology.agentActivity, {
      callback: (error, message) => {
        if (error) return void this.logger.warn(`agent activity: ${error.message}`);
        const question = parseQuestion(message.data);
        if (!question) return;
        const agents = Object.fromEntries(question.agentIds.map((agentKey) => [agentKey, this.figures(agentKey)]));
        client.connection.publish(client.topology.barrierAnswer('ingest', question.id), encoder.encode(JSON.stringify({ replica: this.replica, agents } satisfies ActivityAnswer)));
      },
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }
}

/**
 * The api's side: asks every ingest replica about `agentKeys` and adds up
 * what those that answer within `waitMs` accepted (a replica that does not
 * answer in time is not counted: the figures are a monitoring view).
 */
export async function askAgentActivity(client: NatsClient, agentKeys: readonly string[], { waitMs = 250 } = {}): Promise<Map<string, AgentActivityFigures>> {
  const totals = new Map<string, AgentActivityFigures>(agentKeys.map((key) => [key, { lastEventAt: null, lastMinute: 0 }]));
  if (agentKeys.length === 0) return totals;
  const id = randomUUID().replaceAll('-', '');
  const subscription = client.connection.subscribe(client.topology.barrierAnswer('ingest', id));
  const replicas = new Set<string>();
  const timer = setTimeout(() => subscription.unsubscribe(), waitMs);
  client.connection.publish(client.topology.agentActivity, encoder.encode(JSON.stringify({ id, agentIds: [...agentKeys] } satisfies ActivityQuestion)));
  for await (const message of subscription) {
    const answer = parseAnswer(message.data);
    if (!answer || replicas.has(answer.replica)) continue;
    replicas.add(answer.replica);
    for (const [key, figures] of Object.entries(answer.agents)) {
      const total = totals.get(key);
      if (!total) continue;
      total.lastMinute += figures.lastMinute;
      if (figures.lastEventAt !== null && (total.lastEventAt === null || figures.lastEventAt > total.lastEventAt)) total.lastEventAt = figures.lastEventAt;
    }
  }
  clearTimeout(timer);
  return totals;
}

function parseQuestion(data: Uint8Array): ActivityQuestion | null {
  try {
    const { id, agentIds } = JSON.parse(decoder.decode(data)) as Partial<ActivityQuestion>;
    if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id) || !Array.isArray(agentIds) || agentIds.length > MAX_ACTIVITY_AGENTS) return null;
    return agentIds.every((agentId) => typeof agentId === 'string' && agentId.length <= 64) ? { id, agentIds } : null;
  } catch {
    return null;
  }
}

function parseAnswer(data: Uint8Array): ActivityAnswer | null {
  try {
    const { replica, agents } = JSON.parse(decoder.decode(data)) as Partial<ActivityAnswer>;
    return typeof replica === 'string' && agents && typeof agents === 'object' ? { replica, agents } : null;
  } catch {
    return null;
  }
}
