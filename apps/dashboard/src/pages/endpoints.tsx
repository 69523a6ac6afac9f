import { useState } from 'preact/hooks';
import { request } from '../api.js';
import { CREATE_WEBHOOK_ENDPOINT, CREATE_WEBSOCKET_ENDPOINT, ENDPOINTS, type EndpointSummary } from '../operations.js';
import { navigate, oneOf, useUrlOffset, useUrlState } from '../router.js';
import { EndpointTypeValues, SortDirectionValues, type EndpointFilters, type EndpointState, type EndpointType } from '../schema.generated.js';
import { Chip, DateSortAdder, formatDate, ListTable, ListToolbar, PAGE_SIZE, Pager, type Adding, type Column, useQuery } from '../ui.js';
import { EMPTY_DRAFT, EndpointForm, rateOf } from './endpoint-form.js';

export const TYPE_LABELS: Record<EndpointType, string> = { WEB_SOCKET: 'Websocket', WEB_HOOK: 'Webhook' };

export const STATE_LABELS: Record<EndpointState, string> = {
  ACTIVE: 'active',
  PAUSED_BY_HAND: 'paused',
  PAUSED_BY_FAILURES: 'paused after repeated failures',
  DISABLED_GONE: 'disabled (the receiver answered 410 Gone)',
};

const ENDPOINT_COLUMNS: Column<EndpointSummary>[] = [
  { label: 'Name', cell: (endpoint) => endpoint.name },
  { label: 'Type', cell: (endpoint) => TYPE_LABELS[endpoint.type] },
  { label: 'Target', cell: (endpoint) => (endpoint.type === 'WEB_HOOK' ? `${endpoint.meta.method} ${endpoint.meta.url}` : 'websocket'), wrap: true },
  { label: 'State', cell: (endpoint) => STATE_LABELS[endpoint.state] },
  { label: 'Created', cell: (endpoint) => formatDate(endpoint.creationDate) },
];

/** Endpoints: the list with its filter and sort chips, pages, and + Create. */
export function EndpointsPage({ admin }: { admin: boolean }) {
  const [idFilter, setIdFilter] = useUrlState('id', (text) => text);
  const [typeFilter, setTypeFilter] = useUrlState('type', oneOf(EndpointTypeValues));
  const [sort, setSort] = useUrlState('sort', oneOf(SortDirectionValues));
  const [offset, setOffset] = useUrlOffset();
  const [adding, setAdding] = useState<Adding>(null);
  const [creating, setCreating] = useState<EndpointType | null>(null);

  const filters: EndpointFilters = { ...(idFilter ? { id: { exact: idFilter } } : {}), ...(typeFilter ? { type: { exact: typeFilter } } : {}) };
  const { data, error } = useQuery(
    () => request(ENDPOINTS, { filters, order: { creationDate: sort ?? 'DESC' }, pagination: { limit: PAGE_SIZE, offset } }),
    [idFilter, typeFilter, sort, offset],
  );
  const refilter = (apply: () => void) => {
    apply();
    setOffset(0);
    setAdding(null);
  };

  return (
    <section aria-labelledby="endpoints-title">
      <div class="page-head">
        <h1 id="endpoints-title">Endpoints</h1>
        {admin && !creating && (
          <button type="button" class="primary create" onClick={() => setCreating('WEB_SOCKET')}>
            + Create
          </button>
        )}
      </div>
      {creating && (
        <div class="panel">
          <h2>New endpoint</h2>
          <fieldset class="type-choice">
            <legend>Type</legend>
            {(['WEB_SOCKET', 'WEB_HOOK'] as const).map((type) => (
              <label key={type}>
                <input type="radio" name="endpoint-type" value={type} checked={creating === type} onChange={() => setCreating(type)} />
                {TYPE_LABELS[type]}
              </label>
            ))}
          </fieldset>
          <EndpointForm
            webhook={creating === 'WEB_HOOK'}
            initial={EMPTY_DRAFT}
            submitLabel={`Create ${TYPE_LABELS[creating].toLowerCase()} endpoint`}
            onCancel={() => setCreating(null)}
            onSubmit={async (draft) => {
              const id =
                creating === 'WEB_SOCKET'
                  ? (await request(CREATE_WEBSOCKET_ENDPOINT, { name: draft.name })).createWebSocketEndpoint.id
                  : (
                      await request(CREATE_WEBHOOK_ENDPOINT, {
                        name: draft.name,
                        url: draft.url,
                        method: draft.method,
                        headers: draft.headers.length > 0 ? draft.headers : null,
                        maxRatePerSecond: rateOf(draft),
                      })
                    ).createWebhookEndpoint.id;
              navigate(`/endpoints/${encodeURIComponent(id)}`);
            }}
          />
        </div>
      )}
      <ListToolbar adding={adding} onAdding={setAdding}>
        {idFilter && <Chip label={`id: ${idFilter}`} onRemove={() => refilter(() => setIdFilter(null))} />}
        {typeFilter && <Chip label={`type: ${TYPE_LABELS[typeFilter]}`} onRemove={() => refilter(() => setTypeFilter(null))} />}
        {sort && <Chip label={`created: ${sort === 'ASC' ? 'oldest first' : 'newest first'}`} onRemove={() => refilter(() => setSort(null))} />}
      </ListToolbar>
      {adding === 'filter' && (
        <div class="panel adder">
          <form
            class="adder"
            onSubmit={(event) => {
              event.preventDefault();
              const value = (new FormData(event.currentTarget).get('id') as string).trim();
              if (value) refilter(() => setIdFilter(value));
            }}
          >
            <label class="field">
              <span class="label">By endpoint id</span>
              <input name="id" required autoFocus />
            </label>
            <button type="submit">Apply</button>
          </form>
          <div class="adder" role="group" aria-label="By type">
            <span class="label">By type</span>
            {(['WEB_SOCKET', 'WEB_HOOK'] as const).map((type) => (
              <button type="button" key={type} onClick={() => refilter(() => setTypeFilter(type))}>
                {TYPE_LABELS[type]}
              </button>
            ))}
          </div>
          <button type="button" onClick={() => setAdding(null)}>
            Cancel
          </button>
        </div>
      )}
      {adding === 'sort' && <DateSortAdder field="Created" label="Sort by creation date" onSort={(direction) => refilter(() => setSort(direction))} onCancel={() => setAdding(null)} />}
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {data && (
        <>
          <ListTable
            items={data.endpoints.collectionItems}
            total={data.endpoints.totalCount}
            noun="endpoint"
            hrefOf={(endpoint) => `/endpoints/${encodeURIComponent(endpoint.id)}`}
            columns={ENDPOINT_COLUMNS}
          />
          <Pager label="Endpoints" total={data.endpoints.totalCount} offset={offset} onChange={setOffset} />
        </>
      )}
    </section>
  );
}
