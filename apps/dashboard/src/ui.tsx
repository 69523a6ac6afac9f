import type { AnchorHTMLAttributes, ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from './api.js';
import { followLink, navigate } from './router.js';

export function Link({ href, children, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return (
    <a href={href} onClick={followLink} {...rest}>
      {children}
    </a>
  );
}

/** A labelled control, with the API's error for it beneath (and announced). */
export function Field({ label, error, hint, children }: { label: string; error?: string | null; hint?: string; children: ComponentChildren }) {
  return (
    <label class={error ? 'field invalid' : 'field'}>
      <span class="label">{label}</span>
      {children}
      {hint && !error && <span class="hint">{hint}</span>}
      {error && (
        <span class="field-error" role="alert">
          {error}
        </span>
      )}
    </label>
  );
}

/** An error that names no field of the form. */
export function FormError({ error }: { error: string | null }) {
  return error ? (
    <p class="form-error" role="alert">
      {error}
    </p>
  ) : null;
}

/**
 * Errors of a form: an API error goes to the field it names (the first of
 * the form's fields in its path: `eventFiltersInput.in.cameraIds.0` →
 * cameraIds, `headers.1.name` → headers), else to the form as a whole.
 */
export function useFormErrors(fields: readonly string[]) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const show = (error: unknown): void => {
    const message = error instanceof Error ? error.message : String(error);
    const path = error instanceof ApiFailure && error.field ? error.field.split('.') : [];
    const field = path.find((part) => fields.includes(part));
    if (field) {
      setErrors({ [field]: message });
      setFormError(null);
    } else {
      setErrors({});
      setFormError(message);
    }
  };
  const clear = (): void => {
    setErrors({});
    setFormError(null);
  };
  return { errors, formError, show, clear };
}

/**
 * A form's submission: busy while it runs, the API's error shown at its
 * field (useFormErrors) when it fails. `submit(action)` is the form's onSubmit.
 */
export function useSubmit(fields: readonly string[]) {
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(fields);
  const submit = (action: () => Promise<void>) => async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    form.clear();
    try {
      await action();
    } catch (error) {
      form.show(error);
    } finally {
      setBusy(false);
    }
  };
  return { ...form, busy, submit };
}

/** A form's last lines: its error that names no field, then submit and cancel. */
export function FormActions({ formError, busy, submitLabel, onCancel }: { formError: string | null; busy: boolean; submitLabel: string; onCancel: () => void }) {
  return (
    <>
      <FormError error={formError} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {submitLabel}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </>
  );
}

export interface Column<T> {
  label: string;
  cell: (item: T) => ComponentChildren;
  /** Long values (URLs, ids) break anywhere rather than widen the page. */
  wrap?: boolean;
}

/**
 * A list of records with its count: one row each, the first column a link to
 * the record's card (the whole row opens it too, for the mouse).
 */
export function ListTable<T extends { id: string }>({ items, total, noun, columns, hrefOf }: { items: T[]; total: number; noun: string; columns: Column<T>[]; hrefOf: (item: T) => string }) {
  return (
    <>
      <p class="count" role="status">
        {total} {noun}
        {total === 1 ? '' : 's'}
      </p>
      <table class="list">
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column.label}>
                {column.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id} class="clickable" onClick={(event) => (event.target as HTMLElement).closest('a') || navigate(hrefOf(item))}>
              {columns.map((column, index) => (
                <td key={column.label} data-label={column.label} class={column.wrap ? 'wrap' : undefined}>
                  {index === 0 ? <Link href={hrefOf(item)}>{column.cell(item)}</Link> : column.cell(item)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** A form's values and a setter of some of them. */
export function useDraft<T>(initial: T): [T, (change: Partial<T>) => void] {
  const [draft, setDraft] = useState(initial);
  return [draft, (change) => setDraft((current) => ({ ...current, ...change }))];
}

/** Which menu over a list is open: Add filter, Add sort, or none. */
export type Adding = 'filter' | 'sort' | null;

/** The top of a list: the filters and sort in force as chips (left), Add filter and Add sort (right). */
export function ListToolbar({ adding, onAdding, children, label = 'Filters and sort in force' }: { adding: Adding; onAdding: (adding: Adding) => void; children: ComponentChildren; label?: string }) {
  const toggle = (menu: Exclude<Adding, null>) => onAdding(adding === menu ? null : menu);
  return (
    <div class="toolbar">
      {/* A group, so that its name is announced (an aria-label on a div of no role is not). */}
      <div class="chips" role="group" aria-label={label}>
        {children}
      </div>
      <div class="adders">
        <button type="button" aria-expanded={adding === 'filter'} onClick={() => toggle('filter')}>
          Add filter
        </button>
        <button type="button" aria-expanded={adding === 'sort'} onClick={() => toggle('sort')}>
          Add sort
        </button>
      </div>
    </div>
  );
}

/** The abbreviated id: the full id on hover or focus, copied on click, with a visible confirmation. */
/** The sort adder of a list sorted by one date: newest or oldest first, or cancel. */
export function DateSortAdder({ field, label, onSort, onCancel }: { field: string; label: string; onSort: (direction: 'ASC' | 'DESC') => void; onCancel: () => void }) {
  return (
    <div class="panel adder" role="group" aria-label={label}>
      <button type="button" onClick={() => onSort('DESC')}>
        {field}: newest first
      </button>
      <button type="button" onClick={() => onSort('ASC')}>
        {field}: oldest first
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

export function IdButton({ id, label }: { id: string; label: string }) {
  const [copied, setCopied] = useState<'copied' | 'failed' | null>(null);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(null), 2_500);
    return () => clearTimeout(timer);
  }, [copied]);
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(id);
      setCopied('copied');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <span class="id-copy">
      <button type="button" class="id-button" title={id} aria-label={`Copy ${label} ${id}`} onClick={copy}>
        <code>{abbreviate(id)}</code>
      </button>
      {/* Beside the button, not in it: its visible text stays part of its name (WCAG 2.5.3), which holds the whole id. */}
      <span class="id-full" aria-hidden="true">
        {id}
      </span>
      <span class="copied" role="status">
        {copied === 'copied' ? 'Copied' : copied === 'failed' ? 'Copy failed: select the id by hand' : ''}
      </span>
    </span>
  );
}

export function abbreviate(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

/** A removable chip over a list: a filter or a sort in force. */
export function Chip({ label, onRemove }: { label: string; onRemove: () => void }) {
  return (
    <span class="chip">
      {label}
      <button type="button" class="chip-remove" aria-label={`Remove ${label}`} onClick={onRemove}>
        ×
      </button>
    </span>
  );
}

export const PAGE_SIZE = 20;

export function Pager({ total, offset, onChange, label }: { total: number; offset: number; onChange: (offset: number) => void; label: string }) {
  if (total <= PAGE_SIZE) return null;
  const last = Math.min(offset + PAGE_SIZE, total);
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - PAGE_SIZE))}>
        Previous
      </button>
      <span>
        {offset + 1}–{last} of {total}
      </span>
      <button type="button" disabled={last >= total} onClick={() => onChange(offset + PAGE_SIZE)}>
        Next
      </button>
    </nav>
  );
}

/**
 * A destructive action asked twice: the button, then Confirm or Cancel in its place.
 * `name`: the button's accessible name when several in a list share a label (it must contain the label).
 */
export function ConfirmButton({
  label,
  confirmLabel,
  question,
  onConfirm,
  disabled,
  name,
}: {
  label: string;
  confirmLabel: string;
  question: string;
  onConfirm: () => Promise<void>;
  disabled?: boolean;
  name?: string;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  // Focus follows the question: to Cancel when asked, back to the button after.
  const cancel = useRef<HTMLButtonElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (asking) cancel.current?.focus();
    else if (wasAsking.current) button.current?.focus();
    wasAsking.current = asking;
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" class="danger" ref={button} disabled={disabled} aria-label={name} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button
        type="button"
        class="danger"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" ref={cancel} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleString();
}

/** A `datetime-local` value (the browser's local time, to the minute) as the API's instant, `plusMinutes` later. */
export function instant(local: string, plusMinutes = 0): string {
  return new Date(new Date(local).getTime() + plusMinutes * 60_000).toISOString();
}

/** A time as a `datetime-local` value: the browser's local time, to the minute. */
export function localMinute(time: Date): string {
  const two = (value: number) => String(value).padStart(2, '0');
  return `${time.getFullYear()}-${two(time.getMonth() + 1)}-${two(time.getDate())}T${two(time.getHours())}:${two(time.getMinutes())}`;
}

/** A `datetime-local` value, or null (for a time kept in the URL). */
export const parseLocalMinute = (text: string): string | null => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(text) && !Number.isNaN(new Date(text).getTime()) ? text : null);

/** Ids typed one per line or separated by commas or spaces. */
export function parseIds(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((id) => id.trim())
    .filter(Boolean);
}

/** Calls `reload` every `interval` ms while the page is visible and `active` (a panel that follows what the service does). */
export function useRefresh(reload: () => void, interval = 3_000, active = true): void {
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => document.visibilityState === 'visible' && reload(), interval);
    return () => clearInterval(timer);
  }, [reload, interval, active]);
}

/** Loads with the arguments, again whenever one changes or `reload` is called; the latest answer wins. */
export function useQuery<T>(load: () => Promise<T>, deps: unknown[]): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    load().then(
      (value) => {
        if (!current) return;
        setData(value);
        setError(null);
      },
      (failure: unknown) => current && setError(failure instanceof Error ? failure.message : String(failure)),
    );
    return () => {
      current = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((value) => value + 1), []);
  return { data, error, reload };
}
