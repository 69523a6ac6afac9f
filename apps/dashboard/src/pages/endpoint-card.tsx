import { useState } from 'preact/hooks';
import { request } from '../api.js';
import { DELETE_ENDPOINT, ENDPOINT, PAUSE_ENDPOINT, RESUME_ENDPOINT, UPDATE_ENDPOINT, type EndpointDetail } from '../operations.js';
import { navigate } from '../router.js';
import { ConfirmButton, formatDate, FormError, IdButton, Link, useQuery } from '../ui.js';
import { EMPTY_DRAFT, EndpointForm, endpointChanges, type EndpointDraft } from './endpoint-form.js';
import { STATE_LABELS, TYPE_LABELS } from './endpoints.js';
import { LiveView, websocketUrl } from './live-view.js';
import { OutcomesPanel } from './outcomes-chart.js';
import { AttemptsPanel, SecretPanel } from './webhook-panels.js';

function WebsocketParts({ endpoint }: { endpoint: EndpointDetail }) {
  const url = websocketUrl(endpoint.id);
  const access = endpoint.meta.access;
  return (
    <>
      <section class="panel" aria-labelledby="url-title">
        <h3 id="url-title">Connection URL</h3>
        <p>
          <code class="wrap" data-testid="websocket-url">
            {url}
          </code>
        </p>
        <p class="hint">
          {access?.requireToken
            ? 'Clients need a token: the endpoint’s own (rotateWebSocketToken) or an API token, as the bearer.<token> subprotocol.'
            : 'Anyone with this URL can connect. Restrict it with setWebSocketAccess.'}
          {access && access.allowedOrigins.length > 0 && ` Browser origins allowed: ${access.allowedOrigins.join(', ')}.`}
          {access?.maxConnections && ` At most ${access.maxConnections} connections per gateway replica.`}
        </p>
      </section>
      <div class="panel">
        <LiveView endpointId={endpoint.id} needsToken={Boolean(access?.requireToken)} />
      </div>
    </>
  );
}

function WebhookSummary({ endpoint }: { endpoint: EndpointDetail }) {
  return (
    <dl class="facts">
      <dt>Target</dt>
      <dd class="wrap">
        {endpoint.meta.method} {endpoint.meta.url}
      </dd>
      <dt>Custom headers</dt>
      <dd>{endpoint.meta.headerNames?.length ? endpoint.meta.headerNames.join(', ') : 'none'}</dd>
      <dt>Rate limit</dt>
      <dd>{endpoint.meta.maxRatePerSecond ? `${endpoint.meta.maxRatePerSecond} a second` : 'none'}</dd>
    </dl>
  );
}

/** One endpoint's card: its id, what it is, and what can be done with it. */
export function EndpointCard({ id, admin }: { id: string; admin: boolean }) {
  const { data, error, reload } = useQuery(() => request(ENDPOINT, { id }), [id]);
  const [editing, setEditing] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const endpoint = data?.endpoints.collectionItems[0];
  const act = async (action: () => Promise<unknown>) => {
    try {
      await action();
      setActionError(null);
      reload();
    } catch (failure) {
      setActionError((failure as Error).message);
    }
  };

  if (error) return <FormError error={error} />;
  if (!data) return <p class="loading">Loading…</p>;
  if (!endpoint) {
    return (
      <p>
        No endpoint has the id <code>{id}</code>. <Link href="/endpoints">All endpoints</Link>
      </p>
    );
  }
  const webhook = endpoint.type === 'WEB_HOOK';
  // Paused by hand or by failures, or disabled by a 410: resume sends to it again.
  const paused = endpoint.state !== 'ACTIVE';
  const saved: EndpointDraft = { ...EMPTY_DRAFT, name: endpoint.name, url: endpoint.meta.url ?? '', method: endpoint.meta.method ?? 'POST', maxRatePerSecond: String(endpoint.meta.maxRatePerSecond ?? '') };

  return (
    <article class="card" aria-labelledby="card-title">
      <p class="back">
        <Link href="/endpoints">← Endpoints</Link>
      </p>
      <header class="card-head">
        <IdButton id={endpoint.id} label="endpoint id" />
        <h1 id="card-title">{endpoint.name}</h1>
        <span class="badge">{TYPE_LABELS[endpoint.type]}</span>
        {webhook && <span class={`badge state-${endpoint.state.toLowerCase()}`}>{STATE_LABELS[endpoint.state]}</span>}
      </header>
      <dl class="facts">
        <dt>Created</dt>
        <dd>{formatDate(endpoint.creationDate)}</dd>
        <dt>Modified</dt>
        <dd>{formatDate(endpoint.lastModified)}</dd>
        <dt>Event filters</dt>
        <dd>
          {endpoint.eventFilters.length === 0
            ? 'none: every event is routed here'
            : endpoint.eventFilters.map((filter, index) => (
                <span key={filter.id}>
                  {index > 0 && ', '}
                  <Link href={`/event-filters/${encodeURIComponent(filter.id)}`}>{filter.name}</Link>
                </span>
              ))}
        </dd>
      </dl>
      {webhook && <WebhookSummary endpoint={endpoint} />}
      {admin && !editing && (
        <div class="actions">
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
          {webhook && (
            <button type="button" onClick={() => act(() => (paused ? request(RESUME_ENDPOINT, { id }) : request(PAUSE_ENDPOINT, { id })))}>
              {paused ? 'Resume' : 'Pause'}
            </button>
          )}
          <ConfirmButton
            label="Delete"
            confirmLabel="Delete endpoint"
            question={`Delete ${endpoint.name}? Its deliveries stop at once.`}
            onConfirm={() =>
              act(async () => {
                await request(DELETE_ENDPOINT, { id });
                navigate('/endpoints');
              })
            }
          />
        </div>
      )}
      <FormError error={actionError} />
      {editing && (
        <EndpointForm
          webhook={webhook}
          initial={saved}
          submitLabel="Save"
          headersNote={endpoint.meta.headerNames?.length ? `Set now: ${endpoint.meta.headerNames.join(', ')}. They stay unless removed; headers added here replace them all.` : undefined}
          onCancel={() => setEditing(false)}
          onSubmit={async (draft) => {
            await request(UPDATE_ENDPOINT, { id, ...endpointChanges(saved, draft) });
            setEditing(false);
            reload();
          }}
        />
      )}
      {webhook ? (
        <>
          {admin && <SecretPanel endpointId={endpoint.id} />}
          <OutcomesPanel endpointId={endpoint.id} />
          <AttemptsPanel endpointId={endpoint.id} admin={admin} />
        </>
      ) : (
        <WebsocketParts endpoint={endpoint} />
      )}
    </article>
  );
}
