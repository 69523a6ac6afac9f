import { useEffect, useState } from 'preact/hooks';

/** The dashboard's pages, by path: the api serves the page on each, the page routes itself. */
export type Route =
  | { page: 'sign-in' }
  | { page: 'endpoints' }
  | { page: 'endpoint'; id: string }
  | { page: 'event-filters' }
  | { page: 'event-filter'; id: string }
  | { page: 'lost-events' };

export function routeOf(path: string): Route {
  const [first, id] = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (first === 'sign-in') return { page: 'sign-in' };
  if (first === 'event-filters') return id ? { page: 'event-filter', id } : { page: 'event-filters' };
  if (first === 'lost-events') return { page: 'lost-events' };
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
