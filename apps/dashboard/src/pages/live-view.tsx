import { useEffect, useState } from 'preact/hooks';

const KEPT = 50;
const RECONNECT_CODES = new Set([1001, 1006, 1012]);
const RECONNECT_DELAY_MS = 2_000;

interface Arrival {
  id: string;
  type: string;
  camera: string;
  receivedAt: string;
}

type Status = { state: 'connecting' } | { state: 'live' } | { state: 'closed'; code: number; reason: string };

/** The ready-to-use URL of a websocket endpoint, on this page's own origin (the gateway is behind it). */
export function websocketUrl(endpointId: string): string {
  return `${location.origin.replace(/^http/, 'ws')}/event-service/ws?endpoint_id=${encodeURIComponent(endpointId)}`;
}

function arrivalOf(frame: string): Arrival | null {
  try {
    const event = JSON.parse(frame) as { type?: string; camera?: { id?: string }; event?: { id?: string } };
    return { id: event.event?.id ?? '?', type: event.type ?? '?', camera: event.camera?.id ?? '', receivedAt: new Date().toLocaleTimeString() };
  } catch {
    return null;
  }
}

/**
 * The events arriving on a websocket endpoint now, received through the
 * websocket itself as an integrator would: the latest first, the last 50 kept.
 */
export function LiveView({ endpointId, needsToken }: { endpointId: string; needsToken: boolean }) {
  const [arrivals, setArrivals] = useState<Arrival[]>([]);
  const [status, setStatus] = useState<Status>({ state: 'connecting' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (needsToken) return;
    setStatus({ state: 'connecting' });
    const socket = new WebSocket(websocketUrl(endpointId), ['event-service']);
    socket.onopen = () => setStatus({ state: 'live' });
    socket.onmessage = (message) => {
      const arrival = typeof message.data === 'string' ? arrivalOf(message.data) : null;
      if (arrival) setArrivals((current) => [arrival, ...current].slice(0, KEPT));
    };
    let retry: ReturnType<typeof setTimeout> | undefined;
    socket.onclose = (close) => {
      setStatus({ state: 'closed', code: close.code, reason: close.reason });
      // A gateway draining (1012), going away (1001) or unreachable (1006): connect again, as integrators' clients do.
      if (RECONNECT_CODES.has(close.code)) retry = setTimeout(() => setAttempt((value) => value + 1), RECONNECT_DELAY_MS);
    };
    return () => {
      clearTimeout(retry);
      socket.onclose = null;
      socket.onmessage = null;
      socket.close(1000, 'dashboard left the card');
    };
  }, [endpointId, attempt, needsToken]);

  if (needsToken) {
    return <p class="hint">This endpoint admits only clients with a token, so the dashboard does not connect to it.</p>;
  }
  return (
    <section class="live" aria-labelledby="live-title">
      <h3 id="live-title">Live view</h3>
      <p class="live-status" role="status">
        {status.state === 'live' && 'Connected: events routed to this endpoint appear here as they arrive.'}
        {status.state === 'connecting' && 'Connecting…'}
        {status.state === 'closed' && `Closed (${status.code}${status.reason ? `: ${status.reason}` : ''}).`}
        {status.state === 'closed' && (
          <button type="button" onClick={() => setAttempt((value) => value + 1)}>
            Reconnect
          </button>
        )}
      </p>
      {arrivals.length === 0 ? (
        <p class="hint">No event yet.</p>
      ) : (
        <ol class="arrivals" aria-label="Events received">
          {arrivals.map((arrival, index) => (
            <li key={`${arrival.id}-${index}`}>
              <span>{arrival.receivedAt}</span> <span class="badge">{arrival.type}</span> <code class="wrap">{arrival.id}</code>
              {arrival.camera && <span class="hint"> camera {arrival.camera}</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
