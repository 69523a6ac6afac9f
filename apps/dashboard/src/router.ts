import { useEffect, useState } from 'preact/hooks';

/** The dashboard's pages, by path: the api serves the page on each, the page routes itself. */
export type Route =
  | { page: 'sign-in' }
  | { page: 'endpoints' }
  | { page: 'endpoint'; id: string }
  | { page: 'event-filters' }
  | { page: 'event-filter'; id: string }
  | { page: 'lost-events' }
  | { page: 'replays' }
  | { page: 'dead-letters' }
  | { page: 'agents' };

export function routeOf(path: string): Route {
  const [first, id] = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (first === 'sign-in') return { page: 'sign-in' };
  if (first === 'event-filters') return id ? { page: 'event-filter', id } : { page: 'event-filters' };
  if (first === 'lost-events') return { page: 'lost-events' };
  if (first === 'replays') return { page: 'replays' };
  if (first === 'dead-letters') return { page: 'dead-letters' };
  if (first === 'agents') return { page: 'agents' };
  if (first === 'endpoints' && id) return { page: 'endpoint', id };
  return { page: 'endpoints' };
}

const listeners = new Set<() => void>();

export function navigate(path: string, { replace = false } = {}): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const listener of listeners) listener();
}

addEventListener('popstate', () => {
  for (const listener of listeners) listener();
});

/** The current route, following links and the browser's back and forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.pathname));
  useEffect(() => {
    const listener = () => setRoute(routeOf(location.pathname));
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return route;
}

/** A link that moves within the page (a plain link for a new tab or a modified click). */
export function followLink(event: MouseEvent): void {
  const anchor = event.currentTarget as HTMLAnchorElement;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || anchor.target) return;
  event.preventDefault();
  navigate(anchor.getAttribute('href')!);
}

/**
 * A page's state kept in its URL's query (`?type=WEB_HOOK&offset=20`): a
 * list's filters, sort and page survive a visit to a card and back, a reload,
 * and a shared link. `parse` refuses what the page cannot use (null).
 */
export function useUrlState<T>(name: string, parse: (text: string) => T | null, format: (value: T) => string = String): [T | null, (value: T | null) => void] {
  const [value, setValue] = useState<T | null>(() => {
    const text = new URLSearchParams(location.search).get(name);
    return text === null ? null : parse(text);
  });
  const set = (next: T | null): void => {
    const params = new URLSearchParams(location.search);
    if (next === null) params.delete(name);
    else params.set(name, format(next));
    const query = params.toString();
    history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}`);
    setValue(next);
  };
  return [value, set];
}

/** A list's offset in the URL: a whole number, 0 when absent. */
export function useUrlOffset(): [number, (offset: number) => void] {
  const [offset, setOffset] = useUrlState('offset', (text) => (/^\d+$/.test(text) ? Number(text) : null));
  return [offset ?? 0, (next) => setOffset(next === 0 ? null : next)];
}

/** A value that must be one of `values`. */
export const oneOf =
  <T extends string>(values: readonly T[]) =>
  (text: string): T | null =>
    (values as readonly string[]).includes(text) ? (text as T) : null;
