import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useEffect, useRef, useState } from 'react';

import { useEventFeed } from './live.js';
import { ArrayPage } from './pages/ArrayPage.js';
import { ArraysPage } from './pages/ArraysPage.js';
import { ClusterPage } from './pages/ClusterPage.js';
import { GroupPage, GroupsPage } from './pages/GroupsPage.js';
import { JobPage } from './pages/JobPage.js';
import { JobsPage } from './pages/JobsPage.js';
import { KeysPage } from './pages/KeysPage.js';
import { OffloadPage } from './pages/OffloadPage.js';
import { QueuePage } from './pages/QueuePage.js';
import { SignInPage } from './pages/SignInPage.js';
import { SubmitPage } from './pages/SubmitPage.js';
import { TemplatesPage } from './pages/TemplatesPage.js';
import { TenantsPage } from './pages/TenantsPage.js';
import { UsagePage } from './pages/UsagePage.js';
import { WebhooksPage } from './pages/WebhooksPage.js';
import { Link, navigate, type Route, useRoute } from './router.js';
import {
  forgetKey,
  type Session,
  SessionProvider,
  signIn,
  storedKey,
  storeKey,
} from './session.js';

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => storedKey() !== null);
  const queries = useQueryClient();

  // A reload keeps the tab's key: sign in again with it, silently.
  useEffect(() => {
    const key = storedKey();
    if (!key) return;
    signIn(key)
      .then(setSession, () => forgetKey())
      .finally(() => setRestoring(false));
  }, []);

  const signedIn = (next: Session, key: string) => {
    storeKey(key);
    setSession(next);
    // A fresh sign-in starts on the key's home page, whatever page the last key was on.
    navigate(next.role === 'admin' ? '/tenants' : '/jobs');
  };
  const signOut = () => {
    forgetKey();
    queries.clear();
    setSession(null);
  };

  if (restoring)
    return (
      <main id="main" className="page">
        <p role="status">Signing in…</p>
      </main>
    );
  if (!session) return <SignInPage onSignedIn={signedIn} />;
  return (
    <SessionProvider session={session}>
      <Shell session={session} onSignOut={signOut} />
    </SessionProvider>
  );
}

function Shell(props: { session: Session; onSignOut: () => void }) {
  const route = useRoute();
  const queries = useQueryClient();
  const feed = useEventFeed(
    props.session.role === 'tenant' ? props.session.client : undefined,
    queries,
  );
  const main = useRef<HTMLElement>(null);
  const title = titleOf(route);
  // A new page: its title in the tab, focus on its content (where a screen reader starts).
  useEffect(() => {
    document.title = `${title} · roam console`;
    main.current?.focus();
  }, [title, route]);

  const nav: { to: string; label: string; page: Route['page'] }[] =
    props.session.role === 'tenant'
      ? [
          { to: '/jobs', label: 'Jobs', page: 'jobs' },
          { to: '/groups', label: 'Groups', page: 'groups' },
          { to: '/arrays', label: 'Arrays', page: 'arrays' },
          { to: '/submit', label: 'Submit', page: 'submit' },
          { to: '/templates', label: 'Templates', page: 'templates' },
          { to: '/usage', label: 'Usage', page: 'usage' },
          { to: '/webhooks', label: 'Webhooks', page: 'webhooks' },
          { to: '/keys', label: 'API keys', page: 'keys' },
        ]
      : [
          { to: '/tenants', label: 'Tenants', page: 'tenants' },
          { to: '/queue', label: 'Queue', page: 'queue' },
          { to: '/cluster', label: 'Cluster', page: 'cluster' },
          { to: '/offload', label: 'Offload', page: 'offload' },
        ];

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">roam console</span>
        <nav aria-label="Main">
          <ul>
            {nav.map((item) => (
              <li key={item.to}>
                <Link to={item.to} current={route.page === item.page}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">
          {props.session.role === 'tenant' ? (
            <>
              Tenant <strong>{props.session.tenant.tenant_id}</strong>
              <span className={`feed feed-${feed}`} role="status">
                {feed === 'live' ? 'Live' : feed === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
              </span>
            </>
          ) : (
            <>
              <strong>Operator</strong> (admin key)
            </>
          )}
          <button type="button" onClick={props.onSignOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" className="page" ref={main} tabIndex={-1}>
        <Page route={route} session={props.session} />
      </main>
    </>
  );
}

function titleOf(route: Route): string {
  switch (route.page) {
    case 'jobs':
      return 'Jobs';
    case 'job':
      return `Job ${route.id}`;
    case 'groups':
      return 'Groups';
    case 'group':
      return `Group ${route.name}`;
    case 'arrays':
      return 'Arrays';
    case 'array':
      return `Array ${route.id}`;
    case 'submit':
      return 'Submit a job';
    case 'templates':
      return 'Templates';
    case 'usage':
      return 'Usage';
    case 'webhooks':
      return 'Webhooks';
    case 'keys':
      return 'API keys';
    case 'tenants':
      return 'Tenants';
    case 'cluster':
      return 'Cluster';
    case 'queue':
      return 'Queue';
    case 'offload':
      return 'Offload';
    case 'not-found':
      return 'Not found';
  }
}

function Page(props: { route: Route; session: Session }): ReactNode {
  const { route, session } = props;
  const operator = session.role === 'admin';
  switch (route.page) {
    case 'jobs':
      // Keyed on the query, so a link to `/jobs?group=…` starts from its filters.
      return operator ? <TenantsPage /> : <JobsPage key={window.location.search} />;
    case 'job':
      return operator ? <OnlyFor who="tenant" /> : <JobPage id={route.id} />;
    case 'groups':
      return operator ? <OnlyFor who="tenant" /> : <GroupsPage />;
    case 'group':
      return operator ? <OnlyFor who="tenant" /> : <GroupPage name={route.name} />;
    case 'arrays':
      return operator ? <OnlyFor who="tenant" /> : <ArraysPage />;
    case 'array':
      return operator ? <OnlyFor who="tenant" /> : <ArrayPage id={route.id} />;
    case 'submit':
      return operator ? <OnlyFor who="tenant" /> : <SubmitPage />;
    case 'templates':
      return operator ? <OnlyFor who="tenant" /> : <TemplatesPage />;
    case 'usage':
      return operator ? <OnlyFor who="tenant" /> : <UsagePage />;
    case 'webhooks':
      return operator ? <OnlyFor who="tenant" /> : <WebhooksPage />;
    case 'keys':
      return operator ? <OnlyFor who="tenant" /> : <KeysPage />;
    case 'tenants':
      return operator ? <TenantsPage /> : <OnlyFor who="operator" />;
    case 'cluster':
      return operator ? <ClusterPage /> : <OnlyFor who="operator" />;
    case 'queue':
      return operator ? <QueuePage /> : <OnlyFor who="operator" />;
    case 'offload':
      return operator ? <OffloadPage /> : <OnlyFor who="operator" />;
    case 'not-found':
      return (
        <>
          <h1>Not found</h1>
          <p>
            There is no such page. <Link to="/jobs">Back to the start</Link>.
          </p>
        </>
      );
  }
}

function OnlyFor(props: { who: 'tenant' | 'operator' }) {
  return (
    <>
      <h1>Not for this key</h1>
      <p>
        This page is for {props.who === 'tenant' ? 'a tenant key' : 'an admin key'}. Sign out and
        sign in with one.
      </p>
    </>
  );
}
