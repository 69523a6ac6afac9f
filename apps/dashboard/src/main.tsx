import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, onSignedOut, signIn, signOut, type Scope } from './api.js';
import { EndpointCard } from './pages/endpoint-card.js';
import { EndpointsPage } from './pages/endpoints.js';
import { EventFilterCard } from './pages/event-filter-card.js';
import { EventFiltersPage } from './pages/event-filters.js';
import { LostEventsPage } from './pages/lost-events.js';
import { navigate, useRoute, type Route } from './router.js';
import { Field, Link, useFormErrors } from './ui.js';

function SignIn({ onSignedIn }: { onSignedIn: (scope: Scope) => void }) {
  const [token, setToken] = useState('');
  const { errors, formError, show } = useFormErrors(['token']);
  return (
    <main class="sign-in">
      <h1>event-service</h1>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          try {
            onSignedIn(await signIn(token));
            setToken('');
          } catch (error) {
            show(error);
          }
        }}
      >
        <h2>Sign in</h2>
        <Field label="API token" error={errors['token'] ?? formError} hint="An ADMIN or READ_ONLY token. It is kept in an httpOnly session cookie for 8 hours.">
          <input type="password" name="token" autocomplete="off" required value={token} aria-invalid={Boolean(errors['token'])} onInput={(event) => setToken(event.currentTarget.value)} />
        </Field>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}

const NAV: Array<{ href: string; label: string; pages: Route['page'][] }> = [
  { href: '/endpoints', label: 'Endpoints', pages: ['endpoints', 'endpoint'] },
  { href: '/event-filters', label: 'Event filters', pages: ['event-filters', 'event-filter'] },
  { href: '/lost-events', label: 'Lost events', pages: ['lost-events'] },
];

function Page({ route, scope }: { route: Route; scope: Scope }) {
  const admin = scope === 'ADMIN';
  switch (route.page) {
    case 'endpoint':
      return <EndpointCard key={route.id} id={route.id} admin={admin} />;
    case 'event-filters':
      return <EventFiltersPage admin={admin} />;
    case 'event-filter':
      return <EventFilterCard key={route.id} id={route.id} admin={admin} />;
    case 'lost-events':
      return <LostEventsPage />;
    default:
      return <EndpointsPage admin={admin} />;
  }
}

function App() {
  const route = useRoute();
  const [scope, setScope] = useState<Scope | null | undefined>(undefined);
  useEffect(() => {
    void currentSession().then(setScope, () => setScope(null));
    return onSignedOut(() => setScope(null));
  }, []);
  useEffect(() => {
    const titled = NAV.find((item) => item.pages.includes(route.page));
    document.title = `${titled?.label ?? 'Sign in'} · event-service`;
  }, [route.page]);

  if (scope === undefined) return <p class="loading">Loading…</p>;
  if (scope === null) {
    return (
      <SignIn
        onSignedIn={(signedIn) => {
          setScope(signedIn);
          if (route.page === 'sign-in') navigate('/endpoints', { replace: true });
        }}
      />
    );
  }
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">event-service</span>
        <nav aria-label="Main">
          {NAV.map((item) => (
            <Link key={item.href} href={item.href} aria-current={item.pages.includes(route.page) ? 'page' : undefined}>
              {item.label}
            </Link>
          ))}
        </nav>
        <span class="who">
          <span class="scope">{scope === 'ADMIN' ? 'Admin' : 'Read-only'}</span>
          <button
            type="button"
            onClick={async () => {
              await signOut();
              setScope(null);
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main id="main">
        <Page route={route} scope={scope} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
