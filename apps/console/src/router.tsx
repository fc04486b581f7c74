import { type MouseEvent, type ReactNode, useEffect, useState } from 'react';

/** Every page lives under the base the gateway serves the console at. */
export const BASE = '/console';

export type Route =
  | { page: 'jobs' }
  | { page: 'job'; id: string }
  | { page: 'groups' }
  | { page: 'group'; name: string }
  | { page: 'arrays' }
  | { page: 'array'; id: string }
  | { page: 'submit' }
  | { page: 'templates' }
  | { page: 'usage' }
  | { page: 'webhooks' }
  | { page: 'keys' }
  | { page: 'tenants' }
  | { page: 'cluster' }
  | { page: 'queue' }
  | { page: 'offload' }
  | { page: 'not-found' };

export function parseRoute(pathname: string): Route {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'jobs')) return { page: 'jobs' };
  if (parts.length === 2 && parts[0] === 'jobs') return { page: 'job', id: parts[1]! };
  if (parts.length === 1 && parts[0] === 'groups') return { page: 'groups' };
  if (parts.length === 2 && parts[0] === 'groups')
    return { page: 'group', name: decodeURIComponent(parts[1]!) };
  if (parts.length === 1 && parts[0] === 'arrays') return { page: 'arrays' };
  if (parts.length === 2 && parts[0] === 'arrays') return { page: 'array', id: parts[1]! };
  if (parts.length === 1 && parts[0] === 'submit') return { page: 'submit' };
  if (parts.length === 1 && parts[0] === 'templates') return { page: 'templates' };
  if (parts.length === 1 && parts[0] === 'usage') return { page: 'usage' };
  if (parts.length === 1 && parts[0] === 'webhooks') return { page: 'webhooks' };
  if (parts.length === 1 && parts[0] === 'keys') return { page: 'keys' };
  if (parts.length === 1 && parts[0] === 'tenants') return { page: 'tenants' };
  if (parts.length === 1 && parts[0] === 'cluster') return { page: 'cluster' };
  if (parts.length === 1 && parts[0] === 'queue') return { page: 'queue' };
  if (parts.length === 1 && parts[0] === 'offload') return { page: 'offload' };
  return { page: 'not-found' };
}

export function navigate(to: string): void {
  window.history.pushState(null, '', `${BASE}${to}`);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return route;
}

/** A real link (it opens in a new tab, it is focusable) that navigates in place on a plain click. */
export function Link(props: { to: string; children: ReactNode; current?: boolean }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
      return;
    event.preventDefault();
    navigate(props.to);
  };
  return (
    <a
      href={`${BASE}${props.to}`}
      onClick={onClick}
      aria-current={props.current ? 'page' : undefined}
    >
      {props.children}
    </a>
  );
}
