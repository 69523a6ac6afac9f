import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_MIX, DEFAULT_SIMULATION, type SimulationTally } from '@app/simulator';
import { CliError, graphql, urlsOf, type ServiceOptions } from './service.js';
import { simulate } from './simulate.js';
import { watchEndpoint } from './watch.js';

/**
 * The quick start, with the service running: a websocket endpoint and a
 * filter passing identifications, the simulator over HTTP, and each
 * identification printed as it arrives (the endpoint's dashboard page shows
 * them live too). Fails when not every identification sent has arrived.
 */
export async function quickstart(target: ServiceOptions, { events, rate }: { events: number; rate: number }, say: (line: string) => void): Promise<void> {
  const name = `quickstart ${new Date().toISOString().slice(0, 19)}`;
  const { createWebSocketEndpoint: endpoint } = await graphql<{ createWebSocketEndpoint: { id: string } }>(target, 'mutation($name: String!) { createWebSocketEndpoint(name: $name) { id } }', { name });
  await graphql(target, 'mutation($input: EventFiltersInput!) { createEventFilters(eventFiltersInput: $input) { id } }', {
    input: { name: `${name}: identifications`, endpointIds: [endpoint.id], in: { eventTypes: ['identification'] } },
  });
  say(`endpoint ${endpoint.id}, with a filter passing identifications only`);
  say(`  live in the dashboard: ${urlsOf(target).api}/endpoints/${endpoint.id}`);
  say(`  or: npx event-service watch ${endpoint.id}`);
  const arrivals: string[] = [];
  // Known once the simulator has sent them all: every identification among its events.
  let expected = Number.POSITIVE_INFINITY;
  let arrivedAll!: () => void;
  const allArrived = new Promise<void>((resolve) => (arrivedAll = resolve));
  const arrived = (line: string) => {
    arrivals.push(line);
    say(line);
    if (arrivals.length >= expected) arrivedAll();
  };
  const watching = new AbortController();
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const watched = watchEndpoint(target, endpoint.id, { print: arrived, onOpen: () => opened(), signal: watching.signal });
  // The gateway refusing the watch ends the command with its reason rather than a wait.
  await Promise.race([open, watched]);
  const tally: SimulationTally = await simulate(target, {
    ...DEFAULT_SIMULATION,
    cameras: DEFAULT_SIMULATION.camerasPerAgent,
    profiles: 20,
    watchlists: 3,
    events,
    rate,
    mix: DEFAULT_MIX,
    over: 'http',
    announce: true,
    natsUrl: '',
    prefix: 'es',
    progress: false,
  });
  // Every identification the simulator sent arrives; the other types the filter keeps out.
  expected = tally.byType.identification;
  if (arrivals.length >= expected) arrivedAll();
  const patience = new AbortController();
  await Promise.race([allArrived, sleep(30_000, undefined, { signal: patience.signal }).catch(() => undefined)]);
  patience.abort();
  watching.abort();
  await watched;
  say(`${arrivals.length} of the ${expected} identifications among ${tally.events} simulated events arrived`);
  if (arrivals.length < expected) throw new CliError('not every identification arrived within 30 s: is every app ready? (npm start prints when it is)');
}
