import { useState } from 'preact/hooks';
import { request } from '../api.js';
import { CANCEL_REPLAY, ENDPOINT_NAMES, REPLAY_JOB, REPLAY_JOBS, START_REPLAY, type EndpointName, type ReplayJobRow } from '../operations.js';
import { oneOf, useUrlOffset, useUrlState } from '../router.js';
import { ReplayKindValues, ReplayStateValues, SortDirectionValues, type ReplayJobFilters, type ReplayKind, type ReplayState, type StartReplayInput } from '../schema.generated.js';
import { abbreviate, Chip, ConfirmButton, DateSortAdder, Field, formatDate, FormError, IdButton, instant, ListToolbar, localMinute, PAGE_SIZE, Pager, type Adding, useDraft, useQuery, useRefresh, useSubmit } from '../ui.js';

export const REPLAY_STATE_LABELS: Record<ReplayState, string> = { QUEUED: 'queued', RUNNING: 'running', SUCCEEDED: 'succeeded', FAILED: 'failed', CANCELLED: 'cancelled' };
const KIND_LABELS: Record<ReplayKind, string> = { REDELIVER: 'Re-deliver', REROUTE: 'Re-route' };
/** The badge's look: the delivery outcomes' colours where they mean the same. */
const STATE_BADGES: Record<ReplayState, string> = { QUEUED: 'pending', RUNNING: 'pending', SUCCEEDED: 'succeeded', FAILED: 'failed', CANCELLED: '' };

/** A job a worker has still to take or is running: the page follows it. */
const isActive = (job: Pick<ReplayJobRow, 'state'>): boolean => job.state === 'QUEUED' || job.state === 'RUNNING';

/** Every endpoint's name by id (an endpoint deleted since shows as its id). */
type Names = Map<string, EndpointName>;
const nameOf = (names: Names, id: string): string => names.get(id)?.name ?? id;

/** Seconds as minutes and seconds (hours past the hour). */
function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3_600)} h ${Math.floor((seconds % 3_600) / 60)} min`;
}

interface ReplayDraft {
  kind: ReplayKind;
  endpointId: string;
  from: string;
  to: string;
  ratePerSecond: string;
}

const FIELDS = ['kind', 'endpointId', 'from', 'to', 'ratePerSecond'] as const;

/** The last hour, to the end of the current minute. */
function lastHour(): ReplayDraft {
  const now = new Date();
  return { kind: 'REDELIVER', endpointId: '', from: localMinute(new Date(now.getTime() - 3_600_000)), to: localMinute(now), ratePerSecond: '' };
}

/**
 * What the API is asked: from the start of From's minute to the end of To's
 * (the worker reads nothing stored after the job was created). An endpoint
 * not picked is sent as none, so that the API's error names the field.
 */
function inputOf(draft: ReplayDraft): StartReplayInput {
  return {
    kind: draft.kind,
    ...(draft.kind === 'REDELIVER' ? { endpointId: draft.endpointId || null } : {}),
    from: instant(draft.from),
    to: instant(draft.to, 1),
    ...(draft.ratePerSecond.trim() === '' ? {} : { ratePerSecond: Number(draft.ratePerSecond) }),
  };
}

/** What a job replays, in words: `Re-deliver to receiver`, `Re-route`. */
function whatOf(job: Pick<ReplayJobRow, 'kind' | 'endpointId'>, names: Names): string {
  return job.kind === 'REDELIVER' && job.endpointId ? `${KIND_LABELS.REDELIVER} to ${nameOf(names, job.endpointId)}` : KIND_LABELS[job.kind];
}

/** The endpoints a job reached (a dry run: would reach), most first. */
function ReachTable({ job, names, caption }: { job: ReplayJobRow; names: Names; caption: string }) {
  return (
    <table class="list reach">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Endpoint</th>
          <th scope="col">Deliveries</th>
        </tr>
      </thead>
      <tbody>
        {job.reached.map((reach) => (
          <tr key={reach.endpointId} data-endpoint-id={reach.endpointId}>
            <td data-label="Endpoint" class="wrap">
              {nameOf(names, reach.endpointId)}
            </td>
            <td data-label="Deliveries">{reach.events}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A dry run followed to its end: what it would send, by endpoint, then Run it (the same range, for real). */
function DryRun({ jobId, input, names, onStarted }: { jobId: string; input: StartReplayInput; names: Names; onStarted: () => void }) {
  const { data, error, reload } = useQuery(() => request(REPLAY_JOB, { id: jobId }), [jobId]);
  const job = data?.replayJob ?? null;
  useRefresh(reload, 1_000, job === null || isActive(job));
  const [started, setStarted] = useState<string | null>(null);
  const [runError, setRunError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    try {
      // The range the dry run read: it read nothing stored after it was created, and neither may the run.
      const to = job && new Date(job.createdAt) < new Date(input.to) ? job.createdAt : input.to;
      setStarted((await request(START_REPLAY, { input: { ...input, to, dryRun: false } })).startReplay.id);
      setRunError(null);
      onStarted();
    } catch (failure) {
      setRunError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel dry-run" aria-labelledby="dry-run-title">
      <h3 id="dry-run-title">Dry run</h3>
      <FormError error={error} />
      {job && (
        <p role="status" data-testid="dry-run-status">
          {isActive(job) && `Counting: ${job.done} of ${job.total ?? '?'} read…`}
          {job.state === 'SUCCEEDED' && `${job.sent} deliver${job.sent === 1 ? 'y' : 'ies'} would be sent (${job.done} read, ${job.skipped} skipped).`}
          {job.state === 'FAILED' && `The dry run failed: ${job.error ?? 'no reason given'}.`}
          {job.state === 'CANCELLED' && 'The dry run was cancelled.'}
        </p>
      )}
      {job?.state === 'SUCCEEDED' && job.reached.length > 0 && (
        <>
          <ReachTable job={job} names={names} caption="Deliveries by endpoint" />
          {started ? (
            <p class="notice" role="status">
              Replay {abbreviate(started)} started: its progress is in the list below.
            </p>
          ) : (
            <div class="actions">
              <button type="button" class="primary" disabled={busy} onClick={run}>
                Run it
              </button>
            </div>
          )}
        </>
      )}
      <FormError error={runError} />
    </section>
  );
}

/** The form of a new replay: its primary action is a dry run, whose result offers the real run. */
function ReplayForm({ endpoints, names, onStarted }: { endpoints: EndpointName[]; names: Names; onStarted: () => void }) {
  const [draft, set] = useDraft(lastHour());
  const [dryRun, setDryRun] = useState<{ jobId: string; input: StartReplayInput } | null>(null);
  const { errors, formError, busy, submit } = useSubmit(FIELDS);
  // A dry run answers for its own input: any change asks for another.
  const change = (values: Partial<ReplayDraft>) => {
    set(values);
    setDryRun(null);
  };

  return (
    <section class="panel" aria-labelledby="new-replay-title">
      <h2 id="new-replay-title">New replay</h2>
      <form
        class="form"
        onSubmit={submit(async () => {
          const input = inputOf(draft);
          const job = (await request(START_REPLAY, { input: { ...input, dryRun: true } })).startReplay;
          setDryRun({ jobId: job.id, input });
          onStarted();
        })}
      >
        <fieldset class="type-choice">
          <legend>Kind</legend>
          <label>
            <input type="radio" name="replay-kind" value="REDELIVER" checked={draft.kind === 'REDELIVER'} onChange={() => change({ kind: 'REDELIVER' })} />
            Re-deliver one endpoint’s deliveries
          </label>
          <label>
            <input type="radio" name="replay-kind" value="REROUTE" checked={draft.kind === 'REROUTE'} onChange={() => change({ kind: 'REROUTE' })} />
            Re-route events through today’s filters
          </label>
        </fieldset>
        {draft.kind === 'REDELIVER' ? (
          <Field label="Endpoint" error={errors['endpointId']} hint="Its deliveries in the range are sent again, with their webhook-id.">
            <select name="endpointId" value={draft.endpointId} aria-invalid={Boolean(errors['endpointId'])} onChange={(event) => change({ endpointId: event.currentTarget.value })}>
              <option value="">Pick an endpoint</option>
              {endpoints.map((endpoint) => (
                <option key={endpoint.id} value={endpoint.id}>
                  {endpoint.name} ({endpoint.type === 'WEB_HOOK' ? 'webhook' : 'websocket'})
                </option>
              ))}
            </select>
          </Field>
        ) : (
          <p class="hint">Each event of the range goes to the endpoints today’s filters route it to and that were not sent it before.</p>
        )}
        <Field label="From" error={errors['from']} hint="Your local time, from the start of this minute.">
          <input type="datetime-local" name="from" required value={draft.from} aria-invalid={Boolean(errors['from'])} onInput={(event) => change({ from: event.currentTarget.value })} />
        </Field>
        <Field label="To" error={errors['to']} hint="To the end of this minute; nothing stored after the replay starts is read.">
          <input type="datetime-local" name="to" required value={draft.to} aria-invalid={Boolean(errors['to'])} onInput={(event) => change({ to: event.currentTarget.value })} />
        </Field>
        <Field label="Rate (deliveries a second)" error={errors['ratePerSecond']} hint="Empty: the workers’ default, which protects receivers.">
          <input type="number" name="ratePerSecond" min="1" value={draft.ratePerSecond} aria-invalid={Boolean(errors['ratePerSecond'])} onInput={(event) => change({ ratePerSecond: event.currentTarget.value })} />
        </Field>
        <FormError error={formError} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Dry run first
          </button>
        </div>
      </form>
      {dryRun && <DryRun key={dryRun.jobId} jobId={dryRun.jobId} input={dryRun.input} names={names} onStarted={onStarted} />}
    </section>
  );
}

/** A job's progress: read of total as a progress bar (indeterminate before a worker counted the range). */
function Progress({ job }: { job: ReplayJobRow }) {
  const label = `Progress of replay ${abbreviate(job.id)}`;
  return (
    <span class="job-progress">
      {job.total === null ? (
        <progress aria-label={label} />
      ) : (
        // An empty range is whole once it ended.
        <progress aria-label={label} max={Math.max(job.total, 1)} value={job.total === 0 ? (isActive(job) ? 0 : 1) : Math.min(job.done, job.total)} />
      )}
      <span>
        {job.done} / {job.total ?? '?'}
      </span>
    </span>
  );
}

/** The jobs, newest first, followed while one is queued or running; Cancel on those for an ADMIN session. */
function ReplayJobsTable({ jobs, names, admin, onChanged }: { jobs: ReplayJobRow[]; names: Names; admin: boolean; onChanged: () => void }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <FormError error={error} />
      <table class="list jobs">
        <thead>
          <tr>
            <th scope="col">Replay</th>
            <th scope="col">What</th>
            <th scope="col">Range</th>
            <th scope="col">State</th>
            <th scope="col">Progress</th>
            <th scope="col">Sent</th>
            <th scope="col">Rate</th>
            <th scope="col">ETA</th>
            {admin && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <tr key={job.id} data-job-id={job.id}>
              <td data-label="Replay">
                <IdButton id={job.id} label="replay id" />
                <span class="hint created">{formatDate(job.createdAt)}</span>
              </td>
              <td data-label="What" class="wrap">
                {whatOf(job, names)} {job.dryRun && <span class="badge">dry run</span>}
                {job.ratePerSecond !== null && <span class="hint"> · at most {job.ratePerSecond}/s</span>}
              </td>
              <td data-label="Range">
                {formatDate(job.from)} – {formatDate(job.to)}
              </td>
              <td data-label="State">
                <span class={`badge ${STATE_BADGES[job.state]}`}>{REPLAY_STATE_LABELS[job.state]}</span>
                {job.error && <span class="field-error wrap"> {job.error}</span>}
              </td>
              <td data-label="Progress">
                <Progress job={job} />
              </td>
              <td data-label="Sent">
                {job.sent}
                {job.skipped > 0 && <span class="hint"> ({job.skipped} skipped)</span>}
              </td>
              <td data-label="Rate">{job.rate === null ? '—' : `${job.rate.toFixed(1)}/s`}</td>
              <td data-label="ETA">{job.etaSeconds === null ? '—' : duration(job.etaSeconds)}</td>
              {admin && (
                <td data-label="Actions">
                  {isActive(job) && (
                    <ConfirmButton
                      label="Cancel replay"
                      name={`Cancel replay ${abbreviate(job.id)}`}
                      confirmLabel="Stop replay"
                      question="Stop it after the batch it is sending? What was sent stays sent."
                      onConfirm={async () => {
                        try {
                          await request(CANCEL_REPLAY, { id: job.id });
                          setError(null);
                        } catch (failure) {
                          setError((failure as Error).message);
                        }
                        onChanged();
                      }}
                    />
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Replays: a new one (a dry run first, then Run it), and the jobs with their progress, state filter and pages. */
export function ReplaysPage({ admin }: { admin: boolean }) {
  const [stateFilter, setStateFilter] = useUrlState('state', oneOf(ReplayStateValues));
  const [kindFilter, setKindFilter] = useUrlState('kind', oneOf(ReplayKindValues));
  const [sort, setSort] = useUrlState('sort', oneOf(SortDirectionValues));
  const [offset, setOffset] = useUrlOffset();
  const [adding, setAdding] = useState<Adding>(null);

  const endpoints = useQuery(() => request(ENDPOINT_NAMES, { limit: 1_000 }), []);
  const list = endpoints.data?.endpoints.collectionItems ?? [];
  const names: Names = new Map(list.map((endpoint) => [endpoint.id, endpoint]));
  const filters: ReplayJobFilters = { ...(stateFilter ? { state: { exact: stateFilter } } : {}), ...(kindFilter ? { kind: { exact: kindFilter } } : {}) };
  const jobs = useQuery(
    () => request(REPLAY_JOBS, { filters, order: { createdAt: sort ?? 'DESC' }, pagination: { limit: PAGE_SIZE, offset } }),
    [stateFilter, kindFilter, sort, offset],
  );
  useRefresh(jobs.reload, 2_000, jobs.data?.replayJobs.collectionItems.some(isActive) ?? false);
  const refilter = (apply: () => void) => {
    apply();
    setOffset(0);
    setAdding(null);
  };
  const total = jobs.data?.replayJobs.totalCount ?? 0;

  return (
    <section aria-labelledby="replays-title">
      <h1 id="replays-title">Replays</h1>
      <p class="hint">
        Deliveries sent again from the stored history, run by the webhook-dispatcher: one endpoint’s in a time range (re-deliver), or a time range’s events through today’s filters to the endpoints
        that missed them (re-route).
      </p>
      {admin && <ReplayForm endpoints={list} names={names} onStarted={jobs.reload} />}
      <h2>Jobs</h2>
      <ListToolbar adding={adding} onAdding={setAdding}>
        {stateFilter && <Chip label={`state: ${REPLAY_STATE_LABELS[stateFilter]}`} onRemove={() => refilter(() => setStateFilter(null))} />}
        {kindFilter && <Chip label={`kind: ${KIND_LABELS[kindFilter]}`} onRemove={() => refilter(() => setKindFilter(null))} />}
        {sort && <Chip label={`created: ${sort === 'ASC' ? 'oldest first' : 'newest first'}`} onRemove={() => refilter(() => setSort(null))} />}
      </ListToolbar>
      {adding === 'filter' && (
        <div class="panel adder">
          <div class="adder" role="group" aria-label="By state">
            <span class="label">By state</span>
            {ReplayStateValues.map((state) => (
              <button type="button" key={state} onClick={() => refilter(() => setStateFilter(state))}>
                {REPLAY_STATE_LABELS[state]}
              </button>
            ))}
          </div>
          <div class="adder" role="group" aria-label="By kind">
            <span class="label">By kind</span>
            {ReplayKindValues.map((kind) => (
              <button type="button" key={kind} onClick={() => refilter(() => setKindFilter(kind))}>
                {KIND_LABELS[kind]}
              </button>
            ))}
          </div>
          <button type="button" onClick={() => setAdding(null)}>
            Cancel
          </button>
        </div>
      )}
      {adding === 'sort' && <DateSortAdder field="Created" label="Sort by creation date" onSort={(direction) => refilter(() => setSort(direction))} onCancel={() => setAdding(null)} />}
      <FormError error={jobs.error ?? endpoints.error} />
      {jobs.data && (
        <>
          <p class="count" role="status">
            {total} replay{total === 1 ? '' : 's'}
          </p>
          {total > 0 && <ReplayJobsTable jobs={jobs.data.replayJobs.collectionItems} names={names} admin={admin} onChanged={jobs.reload} />}
          <Pager label="Replays" total={total} offset={offset} onChange={setOffset} />
        </>
      )}
    </section>
  );
}
