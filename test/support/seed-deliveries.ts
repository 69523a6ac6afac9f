import { headers as natsHeaders } from '@nats-io/transport-node';
import { idKey } from '@app/events';
import { Headers, type NatsClient } from '@app/messaging';
import { DEFAULT_SIMULATION, Simulation } from '@app/simulator';

/** Publishes in flight at once while seeding. */
const SEED_WINDOW = 2_000;

/**
 * Stores `count` websocket deliveries of the simulator's events for one
 * endpoint straight into the deliveries stream, as the router publishes them
 * (subject, event and endpoint headers): a history to replay, made in
 * seconds rather than by the whole pipeline. Their positions are not
 * recorded (WebsocketPositions): a client cannot resume after one by id. Returns their event ids, in
 * stream order. For tests and benchmarks alike (no test framework here).
 */
export async function seedWebsocketDeliveries(nats: NatsClient, endpointId: string, count: number, onProgress?: (stored: number) => void): Promise<string[]> {
  const simulation = new Simulation({ ...DEFAULT_SIMULATION, deleteEvery: 0 });
  const encoder = new TextEncoder();
  const endpointKey = idKey(endpointId);
  const ids: string[] = [];
  const window = new Set<Promise<unknown>>();
  for (let index = 0; index < count; index += 1) {
    const message = simulation.next();
    if (message.kind !== 'event') throw new Error('a simulation without deletions sends events only');
    const eventKey = idKey((message.event.event as { id: string }).id);
    ids.push(eventKey);
    const headers = natsHeaders();
    headers.set(Headers.eventId, eventKey);
    headers.set(Headers.endpointId, endpointKey);
    const subject = nats.topology.websocketDeliveries(endpointKey);
    // Created one after the other: stored in this order, whatever order their acks come back in.
    const stored: Promise<unknown> = nats.jetstream.publish(subject, encoder.encode(JSON.stringify(message.event)), { headers, timeout: 30_000 }).finally(() => window.delete(stored));
    window.add(stored);
    if (window.size >= SEED_WINDOW) await Promise.race(window);
    if (onProgress && (index + 1) % 100_000 === 0) onProgress(index + 1);
  }
  await Promise.all(window);
  return ids;
}
