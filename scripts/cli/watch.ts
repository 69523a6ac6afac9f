import WebSocket from 'ws';
import { EventServiceClient, type DeliveredEvent, type SocketConstructor } from '@app/client';
import { CliError, urlsOf, type ServiceOptions } from './service.js';

export interface WatchOptions {
  /** Stop after this many events; none: until interrupted. */
  count?: number;
  /** Print each event's JSON as delivered instead of a summary line. */
  json?: boolean;
  /** The endpoint's connection token, or an API token, when it requires one. */
  endpointToken?: string;
  print: (line: string) => void;
  /** Each time the websocket opens (the first time: from then on nothing sent to the endpoint is missed). */
  onOpen?: () => void;
  signal?: AbortSignal;
}

/** One line per event: when, type, camera, agent, candidates' profiles, event id. */
export function summaryOf(event: DeliveredEvent): string {
  const camera = event.camera as { id?: string; agent_id?: string } | undefined;
  const candidates = (event.candidates as Array<{ profile?: { id?: string } }> | undefined) ?? [];
  const details = event.event as { id: string; detection_date?: string };
  const who = candidates.length > 0 ? ` candidates=${candidates.map((candidate) => candidate.profile?.id?.slice(0, 8)).join(',')}` : '';
  return `${details.detection_date ?? ''}  ${event.type.padEnd(18)} camera=${camera?.id?.slice(0, 8)} agent=${camera?.agent_id?.slice(0, 8)}${who}  id=${details.id}`;
}

/**
 * Prints an endpoint's events as they arrive over its websocket, reconnecting
 * and resuming after the last one received (the client library's
 * `last_event_id`), until `count` events or the signal.
 */
export async function watchEndpoint(service: ServiceOptions, endpointId: string, options: WatchOptions): Promise<number> {
  const url = `${urlsOf(service).websocket}/event-service/ws?endpoint_id=${encodeURIComponent(endpointId)}`;
  let received = 0;
  return new Promise<number>((resolve, reject) => {
    const client = new EventServiceClient({
      url,
      token: options.endpointToken,
      WebSocket: WebSocket as unknown as SocketConstructor,
      onOpen: options.onOpen,
      onEvent: (event) => {
        received += 1;
        options.print(options.json ? JSON.stringify(event) : summaryOf(event));
        if (options.count !== undefined && received >= options.count) finish();
      },
      onClose: ({ code, reason, reconnecting }) => {
        if (!reconnecting && code !== 1000) fail(new CliError(`the gateway closed the connection: ${code} ${reason}`));
      },
      onGap: (last) => options.print(`# could not resume after ${last} (aged out): going on from now`),
    });
    const finish = () => {
      client.stop();
      options.signal?.removeEventListener('abort', finish);
      resolve(received);
    };
    const fail = (error: Error) => {
      client.stop();
      reject(error);
    };
    options.signal?.addEventListener('abort', finish);
    client.start();
  });
}
