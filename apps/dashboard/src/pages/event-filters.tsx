import { useState } from 'preact/hooks';
import { request } from '../api.js';
import { CREATE_EVENT_FILTER, EVENT_FILTERS, type FilterDetail } from '../operations.js';
import { navigate, oneOf, useUrlOffset, useUrlState } from '../router.js';
import { SortDirectionValues, type EventFilterOrder, type SortDirection } from '../schema.generated.js';
import { Chip, formatDate, FormError, ListTable, ListToolbar, PAGE_SIZE, Pager, parseIds, useQuery, type Adding, type Column } from '../ui.js';
import { conditionsOf, conditionsSummary, EMPTY_FILTER, EventFilterForm } from './event-filter-form.js';

type SortKey = keyof EventFilterOrder;
type Sort = { key: SortKey; direction: SortDirection };

/** A sort as the URL keeps it: `lastModified.ASC`. */
function sortOf(text: string): Sort | null {
  const [key, direction] = text.split('.');
  const sort = { key: oneOf(['creationDate', 'lastModified'] as const)(key ?? ''), direction: oneOf(SortDirectionValues)(direction ?? '') };
  return sort.key && sort.direction ? { key: sort.key, direction: sort.direction } : null;
}
const SORT_LABELS: Record<SortKey, string> = { creationDate: 'created', lastModified: 'modified' };

const FILTER_COLUMNS: Column<FilterDetail>[] = [
  { label: 'Name', cell: (filter) => filter.name },
  { label: 'Endpoints', cell: (filter) => filter.endpoints.map((endpoint) => endpoint.name).join(', ') || 'none', wrap: true },
  { label: 'Conditions', cell: conditionsSummary, wrap: true },
  { label: 'Created', cell: (filter) => formatDate(filter.creationDate) },
  { label: 'Modified', cell: (filter) => formatDate(filter.lastModified) },
];

/** Event filters: the list (filter by ids, sort by creation or modification), pages, and + Create. */
export function EventFiltersPage({ admin }: { admin: boolean }) {
  const [chosenIds, setChosenIds] = useUrlState('ids', (text) => parseIds(text), (list) => list.join(','));
  const ids = chosenIds ?? [];
  const setIds = (list: string[]) => setChosenIds(list.length > 0 ? list : null);
  const [sort, setSort] = useUrlState('sort', sortOf, ({ key, direction }) => `${key}.${direction}`);
  const [offset, setOffset] = useUrlOffset();
  const [adding, setAdding] = useState<Adding>(null);
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
      <ListToolbar adding={adding} onAdding={setAdding}>
        {ids.length > 0 && <Chip label={`ids: ${ids.length === 1 ? ids[0] : `${ids.length} ids`}`} onRemove={() => refilter(() => setIds([]))} />}
        {sort && <Chip label={`${SORT_LABELS[sort.key]}: ${sort.direction === 'ASC' ? 'oldest first' : 'newest first'}`} onRemove={() => refilter(() => setSort(null))} />}
      </ListToolbar>
      {adding === 'filter' && (
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
          <ListTable
            items={data.eventsFilters.collectionItems}
            total={data.eventsFilters.totalCount}
            noun="event filter"
            hrefOf={(filter) => `/event-filters/${encodeURIComponent(filter.id)}`}
            columns={FILTER_COLUMNS}
          />
          <Pager label="Event filters" total={data.eventsFilters.totalCount} offset={offset} onChange={setOffset} />
        </>
      )}
    </section>
  );
}
