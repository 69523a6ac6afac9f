import { request } from '../api.js';
import { ENDPOINTS, type FilterDetail } from '../operations.js';
import { EventTypeValues, type EventFilterConditionsInput, type EventType } from '../schema.generated.js';
import { Field, FormActions, parseIds, useDraft, useQuery, useSubmit } from '../ui.js';

export interface FilterDraft {
  name: string;
  endpointIds: string[];
  cameraIds: string;
  agentIds: string;
  profileGroupIds: string;
  eventTypes: EventType[];
}

export const EMPTY_FILTER: FilterDraft = { name: '', endpointIds: [], cameraIds: '', agentIds: '', profileGroupIds: '', eventTypes: [] };

export function draftOf(filter: FilterDetail): FilterDraft {
  return {
    name: filter.name,
    endpointIds: filter.endpoints.map((endpoint) => endpoint.id),
    cameraIds: filter.in.cameraIds.join('\n'),
    agentIds: filter.in.agentIds.join('\n'),
    profileGroupIds: filter.in.profileGroupIds.join('\n'),
    eventTypes: [...filter.in.eventTypes],
  };
}

/** The conditions as the API takes them: every list given, so that an emptied one no longer restricts. */
export function conditionsOf(draft: FilterDraft): EventFilterConditionsInput {
  return { cameraIds: parseIds(draft.cameraIds), agentIds: parseIds(draft.agentIds), profileGroupIds: parseIds(draft.profileGroupIds), eventTypes: draft.eventTypes };
}

const FIELDS = ['name', 'endpointIds', 'cameraIds', 'agentIds', 'profileGroupIds', 'eventTypes'] as const;
const ENDPOINT_CHOICES = 200;

/** An event filter's fields: its name, the endpoints it routes to (picked from the endpoints), and its conditions. */
export function EventFilterForm({ initial, submitLabel, onSubmit, onCancel }: { initial: FilterDraft; submitLabel: string; onSubmit: (draft: FilterDraft) => Promise<void>; onCancel: () => void }) {
  const [draft, set] = useDraft(initial);
  const { errors, formError, busy, submit } = useSubmit(FIELDS);
  const endpoints = useQuery(() => request(ENDPOINTS, { order: { creationDate: 'DESC' }, pagination: { limit: ENDPOINT_CHOICES } }), []);
  const toggle = <T,>(list: T[], value: T): T[] => (list.includes(value) ? list.filter((item) => item !== value) : [...list, value]);
  const idList = (field: 'cameraIds' | 'agentIds' | 'profileGroupIds', label: string) => (
    <Field label={label} error={errors[field]} hint="One id a line; empty: any.">
      <textarea name={field} rows={2} value={draft[field]} aria-invalid={Boolean(errors[field])} onInput={(event) => set({ [field]: event.currentTarget.value })} />
    </Field>
  );

  return (
    <form
      class="panel form"
      onSubmit={submit(() => onSubmit(draft))}
    >
      <Field label="Name" error={errors['name']}>
        <input name="name" required value={draft.name} aria-invalid={Boolean(errors['name'])} onInput={(event) => set({ name: event.currentTarget.value })} />
      </Field>
      <fieldset class="choices">
        <legend>Target endpoints</legend>
        {endpoints.data?.endpoints.collectionItems.map((endpoint) => (
          <label key={endpoint.id}>
            <input type="checkbox" name="endpointIds" value={endpoint.id} checked={draft.endpointIds.includes(endpoint.id)} onChange={() => set({ endpointIds: toggle(draft.endpointIds, endpoint.id) })} />
            {endpoint.name} <span class="hint">({endpoint.type === 'WEB_HOOK' ? 'webhook' : 'websocket'})</span>
          </label>
        ))}
        {endpoints.data?.endpoints.collectionItems.length === 0 && <p class="hint">No endpoint yet.</p>}
        {errors['endpointIds'] && (
          <span class="field-error" role="alert">
            {errors['endpointIds']}
          </span>
        )}
      </fieldset>
      {idList('cameraIds', 'Cameras')}
      {idList('agentIds', 'Agents')}
      {idList('profileGroupIds', 'Watchlists (profile groups)')}
      <fieldset class="choices">
        <legend>Event types</legend>
        {EventTypeValues.map((type) => (
          <label key={type}>
            <input type="checkbox" name="eventTypes" value={type} checked={draft.eventTypes.includes(type)} onChange={() => set({ eventTypes: toggle(draft.eventTypes, type) })} />
            {type}
          </label>
        ))}
        <span class="hint">None checked: any type.</span>
      </fieldset>
      <FormActions formError={formError} busy={busy} submitLabel={submitLabel} onCancel={onCancel} />
    </form>
  );
}

export function conditionsSummary(filter: FilterDetail): string {
  const parts = [
    filter.in.eventTypes.length > 0 && `types ${filter.in.eventTypes.join(', ')}`,
    filter.in.cameraIds.length > 0 && `${filter.in.cameraIds.length} camera${filter.in.cameraIds.length === 1 ? '' : 's'}`,
    filter.in.agentIds.length > 0 && `${filter.in.agentIds.length} agent${filter.in.agentIds.length === 1 ? '' : 's'}`,
    filter.in.profileGroupIds.length > 0 && `${filter.in.profileGroupIds.length} watchlist${filter.in.profileGroupIds.length === 1 ? '' : 's'}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : 'every event';
}

