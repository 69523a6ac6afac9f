import type { HeaderInput, MutationUpdateEndpointArgs, WebhookMethod } from '../schema.generated.js';
import { WebhookMethodValues } from '../schema.generated.js';
import { Field, FormActions, useDraft, useSubmit } from '../ui.js';

/** What the endpoint form edits; the webhook parts are ignored for a websocket. */
export interface EndpointDraft {
  name: string;
  url: string;
  method: WebhookMethod;
  headers: HeaderInput[];
  maxRatePerSecond: string;
  /** Editing: remove the custom headers set now (their values are never shown, so they are replaced, not edited). */
  clearHeaders: boolean;
}

export const EMPTY_DRAFT: EndpointDraft = { name: '', url: '', method: 'POST', headers: [], maxRatePerSecond: '', clearHeaders: false };

const FIELDS = ['name', 'url', 'method', 'headers', 'maxRatePerSecond'] as const;

/**
 * The fields of an endpoint: name, and for a webhook its URL, method,
 * custom headers and rate. Errors the API answers appear at their field.
 * `headersNote` says what happens to the headers already set (their values are never shown).
 */
export function EndpointForm({
  webhook,
  initial,
  submitLabel,
  headersNote,
  onSubmit,
  onCancel,
}: {
  webhook: boolean;
  initial: EndpointDraft;
  submitLabel: string;
  headersNote?: string;
  onSubmit: (draft: EndpointDraft) => Promise<void>;
  onCancel: () => void;
}) {
  const [draft, set] = useDraft(initial);
  const { errors, formError, busy, submit } = useSubmit(FIELDS);
  const setHeader = (index: number, change: Partial<HeaderInput>) => set({ headers: draft.headers.map((header, at) => (at === index ? { ...header, ...change } : header)) });

  return (
    <form
      class="panel form"
      onSubmit={submit(() => onSubmit(draft))}
    >
      <Field label="Name" error={errors['name']}>
        <input name="name" required value={draft.name} aria-invalid={Boolean(errors['name'])} onInput={(event) => set({ name: event.currentTarget.value })} />
      </Field>
      {webhook && (
        <>
          <Field label="URL" error={errors['url']} hint="The receiver's https:// address.">
            <input name="url" type="text" inputMode="url" required value={draft.url} aria-invalid={Boolean(errors['url'])} onInput={(event) => set({ url: event.currentTarget.value })} />
          </Field>
          <Field label="Method" error={errors['method']}>
            <select name="method" value={draft.method} onChange={(event) => set({ method: event.currentTarget.value as WebhookMethod })}>
              {WebhookMethodValues.map((method) => (
                <option key={method}>{method}</option>
              ))}
            </select>
          </Field>
          <Field label="Rate limit (deliveries a second)" error={errors['maxRatePerSecond']} hint="Empty: no limit.">
            <input name="maxRatePerSecond" type="number" min="1" value={draft.maxRatePerSecond} onInput={(event) => set({ maxRatePerSecond: event.currentTarget.value })} />
          </Field>
          <fieldset class="headers">
            <legend>Custom headers</legend>
            {headersNote && (
              <>
                <p class="hint">{headersNote}</p>
                <label class="inline-choice">
                  <input type="checkbox" name="clearHeaders" checked={draft.clearHeaders} onChange={(event) => set({ clearHeaders: event.currentTarget.checked })} />
                  Remove the custom headers set now
                </label>
              </>
            )}
            {draft.headers.map((header, index) => (
              <div class="header-row" key={index}>
                <Field label={`Header ${index + 1} name`}>
                  <input value={header.name} onInput={(event) => setHeader(index, { name: event.currentTarget.value })} />
                </Field>
                <Field label={`Header ${index + 1} value`}>
                  <input type="password" autocomplete="off" value={header.value} onInput={(event) => setHeader(index, { value: event.currentTarget.value })} />
                </Field>
                <button type="button" aria-label={`Remove header ${index + 1}`} onClick={() => set({ headers: draft.headers.filter((_, at) => at !== index) })}>
                  Remove
                </button>
              </div>
            ))}
            {errors['headers'] && (
              <span class="field-error" role="alert">
                {errors['headers']}
              </span>
            )}
            <button type="button" onClick={() => set({ headers: [...draft.headers, { name: '', value: '' }] })}>
              Add header
            </button>
          </fieldset>
        </>
      )}
      <FormActions formError={formError} busy={busy} submitLabel={submitLabel} onCancel={onCancel} />
    </form>
  );
}

/** The rate as creation takes it: a number, or null for none. */
export function rateOf(draft: EndpointDraft): number | null {
  return draft.maxRatePerSecond.trim() === '' ? null : Number(draft.maxRatePerSecond);
}

/**
 * What an edit changes, and nothing else: the API keeps every field not
 * given (a URL sent again would be checked again, its host resolved). An
 * emptied rate is 0, which removes the limit; headers are replaced when new
 * ones are given, removed when asked.
 */
export function endpointChanges(before: EndpointDraft, after: EndpointDraft): Omit<MutationUpdateEndpointArgs, 'id'> {
  const changes: Omit<MutationUpdateEndpointArgs, 'id'> = {};
  if (after.name !== before.name) changes.name = after.name;
  if (after.url !== before.url) changes.url = after.url;
  if (after.method !== before.method) changes.method = after.method;
  if (after.maxRatePerSecond.trim() !== before.maxRatePerSecond.trim()) changes.maxRatePerSecond = rateOf(after) ?? 0;
  if (after.headers.length > 0) changes.headers = after.headers;
  else if (after.clearHeaders) changes.headers = [];
  return changes;
}
