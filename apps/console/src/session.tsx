import { RoamClient, RoamError, type Schemas } from '@roam/client';
import { createContext, type ReactNode, useContext } from 'react';

/** sessionStorage, never a URL or localStorage: the key lives as long as the tab. */
const STORAGE_KEY = 'roam.console.key';

export type Session =
  | { role: 'tenant'; client: RoamClient; tenant: Schemas['Tenant'] }
  | { role: 'admin'; client: RoamClient };

export function clientFor(apiKey: string): RoamClient {
  // Same origin as the API: the gateway serves the console.
  return new RoamClient({ baseUrl: window.location.origin, apiKey, retries: 2 });
}

/**
 * Who the key is: a tenant key reads itself; an admin key is refused that route (403) but may
 * list tenants. Anything else is not a key the console can use.
 */
export async function signIn(apiKey: string): Promise<Session> {
  const client = clientFor(apiKey);
  try {
    return { role: 'tenant', client, tenant: await client.me() };
  } catch (error) {
    if (!(error instanceof RoamError) || error.status !== 403) throw error;
  }
  const tenants = await client.api.GET('/api/v1/tenants', { params: { query: { limit: 1 } } });
  if (!tenants.response.ok) throw RoamError.fromBody(tenants.response, tenants.error);
  return { role: 'admin', client };
}

export const storedKey = (): string | null => sessionStorage.getItem(STORAGE_KEY);
export const storeKey = (apiKey: string): void => sessionStorage.setItem(STORAGE_KEY, apiKey);
export const forgetKey = (): void => sessionStorage.removeItem(STORAGE_KEY);

const SessionContext = createContext<Session | null>(null);

export function SessionProvider(props: { session: Session; children: ReactNode }) {
  return <SessionContext.Provider value={props.session}>{props.children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/** The problem's words for a failed call, for an alert. */
export function describeError(error: unknown): string {
  if (error instanceof RoamError) {
    const fields = (error.problem as { errors?: { path: string; message: string }[] }).errors;
    const detail = fields?.length
      ? fields.map((f) => `${f.path}: ${f.message}`).join('; ')
      : (error.problem.detail ?? '');
    return `${error.problem.title}${detail ? ` — ${detail}` : ''} (${error.status})`;
  }
  return error instanceof Error ? error.message : String(error);
}
