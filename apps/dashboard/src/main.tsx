import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentSession, onSignedOut, signIn, signOut, type Session } from './api.js';
import { EndpointCard } from './pages/endpoint-card.js';
import { EndpointsPage } from './pages/endpoints.js';
import { EventFilterCard } from './pages/event-filter-card.js';
import { EventFiltersPage } from './pages/event-filters.js';
import { AgentsPage } from './pages/agents.js';
import { DeadLettersPage } from './pages/dead-letters.js';
import { LostEventsPage } from './pages/lost-events.js';
import { ReplaysPage } from './pages/replays.js';
import { navigate, useRoute, type Route } from './router.js';
import { Field, Link, useFormErrors } from './ui.js';

function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
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

/** `whole`: about the whole installation, not shown to a token scoped to endpoints (the API refuses it). */
const NAV: Array<{ href: string; label: string; pages: Route['page'][]; whole?: true }> = [
  { href: '/endpoints', label: 'Endpoints', pages: ['endpoints', 'endpoint'] },
  { href: '/event-filters', label: 'Event filters', pages: ['event-filters', 'event-filter'] },
  { href: '/lost-events', label: 'Lost events', pages: ['lost-events'], whole: true },
  { href: '/replays', label: 'Replays', pages: ['replays'], whole: true },
  { href: '/dead-letters', label: 'Dead letters', pages: ['dead-letters'], whole: true },
  { href: '/agents', label: 'Agents', pages: ['agents'], whole: true },
];

const scoped = (session: Session) => session.endpointIds !== null;

function scopeLabel({ scope, endpointIds }: Session): string {
  if (scope === 'ADMIN') return 'Admin';
  if (endpointIds === null) return 'Read-only';
  return `Read-only · ${endpointIds.length} endpoint${endpointIds.length === 1 ? '' : 's'}`;
}

function Page({ route, session }: { route: Route; session: Session }) {
  const admin = session.scope === 'ADMIN';
  if (scoped(session) && NAV.some((item) => item.whole && item.pages.includes(route.page))) {
    return <p class="count">This token reads its own endpoints only; this page is about the whole installation.</p>;
  }
  switch (route.page) {
    case 'endpoint':
      return <EndpointCard key={route.id} id={route.id} admin={admin} />;
    case 'event-filters':
      return <EventFiltersPage admin={admin} />;
    case 'event-filter':
      return <EventFilterCard key={route.id} id={route.id} admin={admin} />;
    case 'lost-events':
      return <LostEventsPage />;
    case 'replays':
      return <ReplaysPage admin={admin} />;
    case 'dead-letters':
      return <DeadLettersPage admin={admin} />;
    case 'agents':
      return <AgentsPage admin={admin} />;
    default:
      return <EndpointsPage admin={admin} />;
  }
}

function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    void currentSession().then(setSession, () => setSession(null));
    return onSignedOut(() => setSession(null));
  }, []);
  useEffect(() => {
    const titled = NAV.find((item) => item.pages.includes(route.page));
    document.title = `${titled?.label ?? 'Sign in'} · event-service`;
  }, [route.page]);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) {
    return (
      <SignIn
        onSignedIn={(signedIn) => {
          setSession(signedIn);
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
          {NAV.filter((item) => !(item.whole && scoped(session))).map((item) => (
            <Link key={item.href} href={item.href} aria-current={item.pages.includes(route.page) ? 'page' : undefined}>
              {item.label}
            </Link>
          ))}
        </nav>
        <span class="who">
          <span class="scope">{scopeLabel(session)}</span>
          <button
            type="button"
            onClick={async () => {
              await signOut();
              setSession(null);
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main id="main">
        <Page route={route} session={session} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
