import { useState } from 'preact/hooks';
import { ApiFailure, request } from '../api.js';
import { LOST_EVENTS, type LostEventRow } from '../operations.js';
import { EventTypeValues, type EventType, type LostEventFilters } from '../schema.generated.js';
import { Field, formatDate, FormError, instant, PAGE_SIZE, Pager, useFormErrors, useQuery } from '../ui.js';

interface Criteria {
  from: string;
  to: string;
  cameraId: string;
  type: EventType | '';
}

const NO_CRITERIA: Criteria = { from: '', to: '', cameraId: '', type: '' };

/** The API's filter: the detection time from the start of `from`'s minute to the end of `to`'s. */
function filtersOf(criteria: Criteria): LostEventFilters {
  return {
    ...(criteria.from || criteria.to ? { date: { ...(criteria.from ? { gte: instant(criteria.from) } : {}), ...(criteria.to ? { lt: instant(criteria.to, 1) } : {}) } } : {}),
    ...(criteria.cameraId.trim() ? { cameraId: { exact: criteria.cameraId.trim() } } : {}),
    ...(criteria.type ? { type: { exact: criteria.type } } : {}),
  };
}

interface SeenEvent {
  type?: string;
  camera?: { id?: string };
  event?: { id?: string; detection_date?: string };
}

/** The agent's detection time (`2024-05-29 10:48:27.364000+00:00`), in the browser's time. */
function detectedAt(event: SeenEvent): string {
  const text = event.event?.detection_date;
  const time = text ? new Date(text.replace(' ', 'T').replace(/(\.\d{3})\d+/, '$1')) : null;
  return time && !Number.isNaN(time.getTime()) ? time.toLocaleString() : (text ?? '?');
}

function LostEventItem({ lost }: { lost: LostEventRow }) {
  const [open, setOpen] = useState(false);
  const event = lost.event as SeenEvent;
  return (
    <li class="lost">
      <div class="lost-head">
        <span>Detected {detectedAt(event)}</span>
        <span class="badge">{event.type ?? '?'}</span>
        <span>{lost.reason}</span>
        <button type="button" aria-expanded={open} aria-label={`${open ? 'Hide' : 'Show'} event ${event.event?.id ?? lost.id}`} onClick={() => setOpen(!open)}>
          {open ? 'Hide event' : 'Show event'}
        </button>
      </div>
      <dl class="facts">
        <dt>Event</dt>
        <dd>
          <code class="wrap">{event.event?.id ?? '?'}</code>
        </dd>
        <dt>Diverted</dt>
        <dd>{formatDate(lost.divertedAt)}</dd>
        <dt>Camera</dt>
        <dd>
          <code class="wrap">{event.camera?.id ?? '?'}</code>
        </dd>
        <dt>Deleted profiles</dt>
        <dd>
          {lost.deletedProfileIds.map((id) => (
            <code key={id} class="wrap id-item">
              {id}
            </code>
          ))}
        </dd>
      </dl>
      {/* A region that scrolls is focusable, so that the keyboard scrolls it too (and named, as a region). */}
      {open && (
        <pre class="event-json" tabIndex={0} role="region" aria-label={`Event ${event.event?.id ?? ''} as JSON`}>
          {JSON.stringify(lost.event, null, 2)}
        </pre>
      )}
    </li>
  );
}

/** Lost events: events not delivered because their candidates' profiles had been deleted. */
export function LostEventsPage() {
  const [draft, setDraft] = useState<Criteria>(NO_CRITERIA);
  const [criteria, setCriteria] = useState<Criteria>(NO_CRITERIA);
  const [offset, setOffset] = useState(0);
  const { errors, formError, show, clear } = useFormErrors(['date', 'cameraId', 'type']);
  const { data, error, reload } = useQuery(
    () =>
      request(LOST_EVENTS, { filters: filtersOf(criteria), order: { date: 'DESC' }, pagination: { limit: PAGE_SIZE, offset } }).catch((failure: unknown) => {
        show(failure);
        throw failure;
      }),
    [criteria, offset],
  );
  const set = (change: Partial<Criteria>) => setDraft((current) => ({ ...current, ...change }));

  return (
    <section aria-labelledby="lost-title">
      <h1 id="lost-title">Lost events</h1>
      <p class="hint">Events that were not delivered because every candidate’s profile had been deleted, newest detection first.</p>
      <form
        class="panel filters"
        aria-label="Filter lost events"
        onSubmit={(event) => {
          event.preventDefault();
          if (draft.from && draft.to && draft.from > draft.to) {
            show(new ApiFailure('must not be after To', 'BAD_USER_INPUT', 'date'));
            return;
          }
          clear();
          setOffset(0);
          setCriteria(draft);
          // Asked again even when nothing changed: new lost events may have come.
          reload();
        }}
      >
        <Field label="Detected from" error={errors['date']}>
          <input type="datetime-local" name="from" value={draft.from} onInput={(event) => set({ from: event.currentTarget.value })} />
        </Field>
        <Field label="Detected to">
          <input type="datetime-local" name="to" value={draft.to} onInput={(event) => set({ to: event.currentTarget.value })} />
        </Field>
        <Field label="Camera id" error={errors['cameraId']}>
          <input name="cameraId" value={draft.cameraId} onInput={(event) => set({ cameraId: event.currentTarget.value })} />
        </Field>
        <Field label="Type" error={errors['type']}>
          <select name="type" value={draft.type} onChange={(event) => set({ type: event.currentTarget.value as EventType | '' })}>
            <option value="">any</option>
            {EventTypeValues.map((type) => (
              <option key={type}>{type}</option>
            ))}
          </select>
        </Field>
        <div class="actions">
          <button type="submit" class="primary">
            Apply
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft(NO_CRITERIA);
              setCriteria(NO_CRITERIA);
              setOffset(0);
              clear();
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <FormError error={formError ?? (Object.keys(errors).length === 0 ? error : null)} />
      {data && (
        <>
          <p class="count" role="status">
            {data.lostEvents.totalCount} lost event{data.lostEvents.totalCount === 1 ? '' : 's'}
          </p>
          <ol class="lost-list">
            {data.lostEvents.collectionItems.map((lost) => (
              <LostEventItem key={lost.id} lost={lost} />
            ))}
          </ol>
          <Pager label="Lost events" total={data.lostEvents.totalCount} offset={offset} onChange={setOffset} />
        </>
      )}
    </section>
  );
}
