import { useState } from 'preact/hooks';
import { request } from '../api.js';
import { DELETE_EVENT_FILTER, EVENT_FILTERS, UPDATE_EVENT_FILTER } from '../operations.js';
import { navigate } from '../router.js';
import { ConfirmButton, formatDate, FormError, IdButton, Link, useQuery } from '../ui.js';
import { conditionsOf, draftOf, EventFilterForm } from './event-filter-form.js';

function IdList({ ids, none }: { ids: string[]; none: string }) {
  if (ids.length === 0) return <dd>{none}</dd>;
  return (
    <dd>
      {ids.map((id) => (
        <code key={id} class="wrap id-item">
          {id}
        </code>
      ))}
    </dd>
  );
}

/** One event filter's card: what it routes where; edit and delete. */
export function EventFilterCard({ id, admin }: { id: string; admin: boolean }) {
  const { data, error, reload } = useQuery(() => request(EVENT_FILTERS, { filters: { id: { exact: id } } }), [id]);
  const [editing, setEditing] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const filter = data?.eventsFilters.collectionItems[0];

  if (error) return <FormError error={error} />;
  if (!data) return <p class="loading">Loading…</p>;
  if (!filter) {
    return (
      <p>
        No event filter has the id <code>{id}</code>. <Link href="/event-filters">All event filters</Link>
      </p>
    );
  }
  return (
    <article class="card" aria-labelledby="card-title">
      <p class="back">
        <Link href="/event-filters">← Event filters</Link>
      </p>
      <header class="card-head">
        <IdButton id={filter.id} label="event filter id" />
        <h1 id="card-title">{filter.name}</h1>
        {!filter.routesEvents && <span class="badge">routes nothing: no endpoint</span>}
      </header>
      {editing ? (
        <EventFilterForm
          initial={draftOf(filter)}
          submitLabel="Save"
          onCancel={() => setEditing(false)}
          onSubmit={async (draft) => {
            await request(UPDATE_EVENT_FILTER, { id, eventFiltersInput: { name: draft.name, endpointIds: draft.endpointIds, in: conditionsOf(draft) } });
            setEditing(false);
            reload();
          }}
        />
      ) : (
        <>
          <dl class="facts">
            <dt>Endpoints</dt>
            <dd>
              {filter.endpoints.length === 0
                ? 'none'
                : filter.endpoints.map((endpoint, index) => (
                    <span key={endpoint.id}>
                      {index > 0 && ', '}
                      <Link href={`/endpoints/${encodeURIComponent(endpoint.id)}`}>{endpoint.name}</Link>
                    </span>
                  ))}
            </dd>
            <dt>Event types</dt>
            <dd>{filter.in.eventTypes.length > 0 ? filter.in.eventTypes.join(', ') : 'any'}</dd>
            <dt>Cameras</dt>
            <IdList ids={filter.in.cameraIds} none="any" />
            <dt>Agents</dt>
            <IdList ids={filter.in.agentIds} none="any" />
            <dt>Watchlists</dt>
            <IdList ids={filter.in.profileGroupIds} none="any" />
            <dt>Created</dt>
            <dd>{formatDate(filter.creationDate)}</dd>
            <dt>Modified</dt>
            <dd>{formatDate(filter.lastModified)}</dd>
          </dl>
          {admin && (
            <div class="actions">
              <button type="button" onClick={() => setEditing(true)}>
                Edit
              </button>
              <ConfirmButton
                label="Delete"
                confirmLabel="Delete event filter"
                question={`Delete ${filter.name}?`}
                onConfirm={async () => {
                  try {
                    await request(DELETE_EVENT_FILTER, { id });
                    navigate('/event-filters');
                  } catch (failure) {
                    setActionError((failure as Error).message);
                  }
                }}
              />
            </div>
          )}
          <FormError error={actionError} />
        </>
      )}
    </article>
  );
}
