import { useState } from 'preact/hooks';
import { request } from '../api.js';
import { CREATE_EVENT_FILTER, EVENT_FILTERS } from '../operations.js';
import { navigate } from '../router.js';
import type { EventFilterOrder, SortDirection } from '../schema.generated.js';
import { Chip, formatDate, FormError, Link, PAGE_SIZE, Pager, parseIds, useQuery } from '../ui.js';
import { conditionsOf, conditionsSummary, EMPTY_FILTER, EventFilterForm } from './event-filter-form.js';

type SortKey = keyof EventFilterOrder;
const SORT_LABELS: Record<SortKey, string> = { creationDate: 'created', lastModified: 'modified' };

/** Event filters: the list (filter by ids, sort by creation or modification), pages, and + Create. */
export function EventFiltersPage({ admin }: { admin: boolean }) {
  const [ids, setIds] = useState<string[]>([]);
  const [sort, setSort] = useState<{ key: SortKey; direction: SortDirection } | null>(null);
  const [offset, setOffset] = useState(0);
  const [adding, setAdding] = useState<'ids' | 'sort' | null>(null);
  const [creating, setCreating] = useState(false);
  const { data, error } = useQuery(
    () =>
      request(EVENT_FILTERS, {
        filters: ids.length > 0 ? { id: { in: ids } } : null,
        order: sort ? { [sort.key]: sort.direction } : { creationDate: 'DESC' },
        pagination: { limit: PAGE_SIZE, offset },
      }),
    [ids.join(','), sort?.key, sort?.direction, offset],
  );
  const refilter = (apply: () => void) => {
    apply();
    setOffset(0);
    setAdding(null);
  };

  return (
    <section aria-labelledby="filters-title">
      <div class="page-head">
        <h1 id="filters-title">Event filters</h1>
        {admin && !creating && (
          <button type="button" class="primary create" onClick={() => setCreating(true)}>
            + Create
          </button>
        )}
      </div>
      {creating && (
        <div class="panel">
          <h2>New event filter</h2>
          <EventFilterForm
            initial={EMPTY_FILTER}
            submitLabel="Create event filter"
            onCancel={() => setCreating(false)}
            onSubmit={async (draft) => {
              const created = await request(CREATE_EVENT_FILTER, { eventFiltersInput: { name: draft.name, endpointIds: draft.endpointIds, in: conditionsOf(draft) } });
              navigate(`/event-filters/${encodeURIComponent(created.createEventFilters.id)}`);
            }}
          />
        </div>
      )}
      <div class="toolbar">
        <div class="chips" aria-label="Filters and sort in force">
          {ids.length > 0 && <Chip label={`ids: ${ids.length === 1 ? ids[0] : `${ids.length} ids`}`} onRemove={() => refilter(() => setIds([]))} />}
          {sort && <Chip label={`${SORT_LABELS[sort.key]}: ${sort.direction === 'ASC' ? 'oldest first' : 'newest first'}`} onRemove={() => refilter(() => setSort(null))} />}
        </div>
        <div class="adders">
          <button type="button" aria-expanded={adding === 'ids'} onClick={() => setAdding(adding === 'ids' ? null : 'ids')}>
            Add filter
          </button>
          <button type="button" aria-expanded={adding === 'sort'} onClick={() => setAdding(adding === 'sort' ? null : 'sort')}>
            Add sort
          </button>
        </div>
      </div>
      {adding === 'ids' && (
        <form
          class="panel adder"
          onSubmit={(event) => {
            event.preventDefault();
            const chosen = parseIds(new FormData(event.currentTarget).get('ids') as string);
            if (chosen.length > 0) refilter(() => setIds(chosen));
          }}
        >
          <label class="field">
            <span class="label">Event filter ids</span>
            <input name="ids" required autoFocus />
          </label>
          <button type="submit">Apply</button>
          <button type="button" onClick={() => setAdding(null)}>
            Cancel
          </button>
        </form>
      )}
      {adding === 'sort' && (
        <div class="panel adder" role="group" aria-label="Sort">
          {(['creationDate', 'lastModified'] as const).flatMap((key) =>
            (['DESC', 'ASC'] as const).map((direction) => (
              <button type="button" key={`${key}-${direction}`} onClick={() => refilter(() => setSort({ key, direction }))}>
                {SORT_LABELS[key]}: {direction === 'ASC' ? 'oldest first' : 'newest first'}
              </button>
            )),
          )}
          <button type="button" onClick={() => setAdding(null)}>
            Cancel
          </button>
        </div>
      )}
      <FormError error={error} />
      {data && (
        <>
          <p class="count" role="status">
            {data.eventsFilters.totalCount} event filter{data.eventsFilters.totalCount === 1 ? '' : 's'}
          </p>
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Endpoints</th>
                <th scope="col">Conditions</th>
                <th scope="col">Created</th>
                <th scope="col">Modified</th>
              </tr>
            </thead>
            <tbody>
              {data.eventsFilters.collectionItems.map((filter) => (
                <tr key={filter.id} class="clickable" onClick={(event) => (event.target as HTMLElement).closest('a') || navigate(`/event-filters/${encodeURIComponent(filter.id)}`)}>
                  <td data-label="Name">
                    <Link href={`/event-filters/${encodeURIComponent(filter.id)}`}>{filter.name}</Link>
                  </td>
                  <td data-label="Endpoints" class="wrap">
                    {filter.endpoints.map((endpoint) => endpoint.name).join(', ') || 'none'}
                  </td>
                  <td data-label="Conditions" class="wrap">
                    {conditionsSummary(filter)}
                  </td>
                  <td data-label="Created">{formatDate(filter.creationDate)}</td>
                  <td data-label="Modified">{formatDate(filter.lastModified)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager label="Event filters" total={data.eventsFilters.totalCount} offset={offset} onChange={setOffset} />
        </>
      )}
    </section>
  );
}
