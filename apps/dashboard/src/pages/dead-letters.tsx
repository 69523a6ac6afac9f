import { useState } from 'preact/hooks';
import { ApiFailure, request } from '../api.js';
import { DEAD_LETTERS, DISCARD_DEAD_LETTERS, RESUBMIT_DEAD_LETTERS, type DeadLetterRow } from '../operations.js';
import { oneOf, useUrlOffset, useUrlState } from '../router.js';
import { DeadLetterStateValues, SortDirectionValues, type DeadLetterFilters, type DeadLetterState } from '../schema.generated.js';
import { Chip, ConfirmButton, DateSortAdder, Field, formatDate, FormError, instant, ListToolbar, PAGE_SIZE, Pager, parseLocalMinute, type Adding, useDraft, useFormErrors, useQuery, useRefresh } from '../ui.js';

const STATE_LABELS: Record<DeadLetterState, string> = { OPEN: 'open', RESUBMITTED: 'resubmitted', DISCARDED: 'discarded' };
const STATE_BADGES: Record<DeadLetterState, string> = { OPEN: 'failed', RESUBMITTED: 'succeeded', DISCARDED: '' };
/** Suggestions only: the API takes any app and reason (docs/operations.md, Dead letters, has the codes). */
const APPS = ['ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher', 'delivery-projector', 'dead-letter-projector'];
const REASONS = [
  'INVALID_EVENT',
  'MALFORMED_MESSAGE',
  'PAYLOAD_TOO_LARGE',
  'WRONG_AGENT',
  'CAMERA_OF_ANOTHER_AGENT',
  'TOO_MANY_CAMERAS',
  'DUPLICATE_KEY',
  'MISSING_HEADERS',
  'UNKNOWN_SUBJECT',
  'UNKNOWN_ENDPOINT',
  'HANDLER_FAILED',
];
/** The most a resubmit or a discard acts on at once (the API's). */
const MAX_PER_COMMAND = 10_000;

/** The message as it came, pretty-printed when it is JSON. */
function pretty(message: string): string {
  try {
    return JSON.stringify(JSON.parse(message), null, 2);
  } catch {
    return message;
  }
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** What a resubmit or a discard answered, in words. */
function answered(verb: 'Resubmitted' | 'Discarded', count: number): string {
  return `${verb} ${plural(count, 'dead letter')}.${count === MAX_PER_COMMAND ? ' That is the most at once: more may match, act again.' : ''}`;
}

function DeadLetterItem({ letter, admin, act }: { letter: DeadLetterRow; admin: boolean; act: (action: () => Promise<string>) => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const only = { id: { exact: letter.id } };
  return (
    <li class="lost dead-letter" data-dead-letter-id={letter.id}>
      <div class="lost-head">
        <span>{formatDate(letter.deadLetteredAt)}</span>
        <span class="badge">{letter.app}</span>
        <span>{letter.reason}</span>
        <span class={`badge ${STATE_BADGES[letter.state]}`}>{STATE_LABELS[letter.state]}</span>
        <button type="button" aria-expanded={open} aria-label={`${open ? 'Hide message' : 'Show message'} of dead letter ${letter.id}`} onClick={() => setOpen(!open)}>
          {open ? 'Hide message' : 'Show message'}
        </button>
      </div>
      <p class="wrap detail">{letter.detail}</p>
      {open && (
        <>
          <dl class="facts">
            <dt>Dead letter</dt>
            <dd>
              <code>{letter.id}</code>
            </dd>
            <dt>Consumer</dt>
            <dd>{letter.consumer}</dd>
            <dt>Source subject</dt>
            <dd>
              <code class="wrap">{letter.sourceSubject}</code>
            </dd>
            <dt>Event</dt>
            <dd>{letter.eventId ? <code class="wrap">{letter.eventId}</code> : 'none named'}</dd>
            {letter.resolvedAt && (
              <>
                <dt>{letter.state === 'DISCARDED' ? 'Discarded' : 'Resubmitted'}</dt>
                <dd>{formatDate(letter.resolvedAt)}</dd>
              </>
            )}
          </dl>
          {/* A region that scrolls is focusable, so that the keyboard scrolls it too (and named, as a region). */}
          <pre class="event-json" tabIndex={0} role="region" aria-label={`Message of dead letter ${letter.id}`}>
            {pretty(letter.message)}
          </pre>
        </>
      )}
      {admin && letter.state === 'OPEN' && (
        <div class="actions">
          <button type="button" aria-label={`Resubmit dead letter ${letter.id}`} onClick={() => act(async () => answered('Resubmitted', (await request(RESUBMIT_DEAD_LETTERS, { filters: only })).resubmitDeadLetters))}>
            Resubmit
          </button>
          <ConfirmButton
            label="Discard"
            name={`Discard dead letter ${letter.id}`}
            confirmLabel="Discard it"
            question="Discard this dead letter? A later resubmit leaves it."
            onConfirm={() => act(async () => answered('Discarded', (await request(DISCARD_DEAD_LETTERS, { filters: only })).discardDeadLetters))}
          />
        </div>
      )}
    </li>
  );
}

interface Criteria {
  app: string;
  reason: string;
  state: DeadLetterState | '';
  from: string;
  to: string;
}

/**
 * Dead letters: what the data path gave up on, newest first, with filters as
 * chips; a message shown on demand; resubmit or discard one, or every open
 * one the filters match, after a confirmation naming how many.
 */
export function DeadLettersPage({ admin }: { admin: boolean }) {
  const [app, setApp] = useUrlState('app', (text) => text);
  const [reason, setReason] = useUrlState('reason', (text) => text);
  const [state, setState] = useUrlState('state', oneOf(DeadLetterStateValues));
  const [from, setFrom] = useUrlState('from', parseLocalMinute);
  const [to, setTo] = useUrlState('to', parseLocalMinute);
  const [sort, setSort] = useUrlState('sort', oneOf(SortDirectionValues));
  const [offset, setOffset] = useUrlOffset();
  const [adding, setAdding] = useState<Adding>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const filters: DeadLetterFilters = {
    ...(app ? { app: { exact: app } } : {}),
    ...(reason ? { reason: { exact: reason } } : {}),
    ...(state ? { state: { exact: state } } : {}),
    // From the start of From's minute to the end of To's.
    ...(from || to ? { deadLetteredAt: { ...(from ? { gte: instant(from) } : {}), ...(to ? { lt: instant(to, 1) } : {}) } } : {}),
  };
  const { data, error, reload } = useQuery(
    () => request(DEAD_LETTERS, { filters, openFilters: { ...filters, state: { exact: 'OPEN' } }, order: { deadLetteredAt: sort ?? 'DESC' }, pagination: { limit: PAGE_SIZE, offset } }),
    [app, reason, state, from, to, sort, offset],
  );
  // New dead letters arrive as the data path gives up (and as a resubmission fails again).
  useRefresh(reload);
  // Resubmit and discard act on the open ones only.
  const openCount = state && state !== 'OPEN' ? 0 : (data?.open.totalCount ?? 0);
  const total = data?.deadLetters.totalCount ?? 0;

  const refilter = (apply: () => void) => {
    apply();
    setOffset(0);
    setAdding(null);
    setNotice(null);
  };
  const act = async (action: () => Promise<string>) => {
    try {
      setNotice(await action());
      setActionError(null);
    } catch (failure) {
      setNotice(null);
      setActionError((failure as Error).message);
    }
    reload();
  };

  return (
    <section aria-labelledby="dead-letters-title">
      <h1 id="dead-letters-title">Dead letters</h1>
      <p class="hint">Messages the data path gave up on, with why. After a fix, resubmit them where they came from; or discard them.</p>
      <ListToolbar adding={adding} onAdding={setAdding}>
        {app && <Chip label={`app: ${app}`} onRemove={() => refilter(() => setApp(null))} />}
        {reason && <Chip label={`reason: ${reason}`} onRemove={() => refilter(() => setReason(null))} />}
        {state && <Chip label={`state: ${STATE_LABELS[state]}`} onRemove={() => refilter(() => setState(null))} />}
        {from && <Chip label={`from: ${formatDate(instant(from))}`} onRemove={() => refilter(() => setFrom(null))} />}
        {to && <Chip label={`to: ${formatDate(instant(to))}`} onRemove={() => refilter(() => setTo(null))} />}
        {sort && <Chip label={`dead-lettered: ${sort === 'ASC' ? 'oldest first' : 'newest first'}`} onRemove={() => refilter(() => setSort(null))} />}
      </ListToolbar>
      {adding === 'filter' && (
        <FilterForm
          initial={{ app: app ?? '', reason: reason ?? '', state: state ?? '', from: from ?? '', to: to ?? '' }}
          onApply={(criteria) =>
            refilter(() => {
              setApp(criteria.app.trim() || null);
              setReason(criteria.reason.trim() || null);
              setState(criteria.state || null);
              setFrom(criteria.from || null);
              setTo(criteria.to || null);
            })
          }
          onCancel={() => setAdding(null)}
        />
      )}
      {adding === 'sort' && <DateSortAdder field="Dead-lettered" label="Sort by when dead-lettered" onSort={(direction) => refilter(() => setSort(direction))} onCancel={() => setAdding(null)} />}
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <FormError error={actionError ?? error} />
      {data && (
        <>
          <p class="count" role="status">
            {plural(total, 'dead letter')}
            {openCount !== total && `, ${openCount} open`}
          </p>
          {admin && openCount > 0 && (
            <div class="actions bulk">
              <ConfirmButton
                label={`Resubmit all ${openCount} matching`}
                confirmLabel="Resubmit them"
                question={`Resubmit the ${plural(openCount, 'open dead letter')} these filters match, where they came from?`}
                onConfirm={() => act(async () => answered('Resubmitted', (await request(RESUBMIT_DEAD_LETTERS, { filters })).resubmitDeadLetters))}
              />
              <ConfirmButton
                label={`Discard all ${openCount} matching`}
                confirmLabel="Discard them"
                question={`Discard the ${plural(openCount, 'open dead letter')} these filters match?`}
                onConfirm={() => act(async () => answered('Discarded', (await request(DISCARD_DEAD_LETTERS, { filters })).discardDeadLetters))}
              />
            </div>
          )}
          <ol class="lost-list">
            {data.deadLetters.collectionItems.map((letter) => (
              <DeadLetterItem key={letter.id} letter={letter} admin={admin} act={act} />
            ))}
          </ol>
          <Pager label="Dead letters" total={total} offset={offset} onChange={setOffset} />
        </>
      )}
    </section>
  );
}

/** The filters, all at once: app and reason (with the known ones suggested), state, and when. */
function FilterForm({ initial, onApply, onCancel }: { initial: Criteria; onApply: (criteria: Criteria) => void; onCancel: () => void }) {
  const [draft, set] = useDraft(initial);
  const { errors, show, clear } = useFormErrors(['to']);
  return (
    <form
      class="panel filters"
      aria-label="Filter dead letters"
      onSubmit={(event) => {
        event.preventDefault();
        if (draft.from && draft.to && draft.from > draft.to) {
          show(new ApiFailure('must not be before From', 'BAD_USER_INPUT', 'to'));
          return;
        }
        clear();
        onApply(draft);
      }}
    >
      <Field label="App">
        <input name="app" list="dead-letter-apps" value={draft.app} onInput={(event) => set({ app: event.currentTarget.value })} />
      </Field>
      <datalist id="dead-letter-apps">
        {APPS.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <Field label="Reason">
        <input name="reason" list="dead-letter-reasons" value={draft.reason} onInput={(event) => set({ reason: event.currentTarget.value })} />
      </Field>
      <datalist id="dead-letter-reasons">
        {REASONS.map((code) => (
          <option key={code} value={code} />
        ))}
      </datalist>
      <Field label="State">
        <select name="state" value={draft.state} onChange={(event) => set({ state: event.currentTarget.value as DeadLetterState | '' })}>
          <option value="">any</option>
          {DeadLetterStateValues.map((value) => (
            <option key={value} value={value}>
              {STATE_LABELS[value]}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Dead-lettered from">
        <input type="datetime-local" name="from" value={draft.from} onInput={(event) => set({ from: event.currentTarget.value })} />
      </Field>
      <Field label="Dead-lettered to" error={errors['to']}>
        <input type="datetime-local" name="to" value={draft.to} aria-invalid={Boolean(errors['to'])} onInput={(event) => set({ to: event.currentTarget.value })} />
      </Field>
      <div class="actions">
        <button type="submit" class="primary">
          Apply
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
