// Which client made which call: (user agent, verb, resource) as Kubernetes RBAC names them.
// roam's workers identify themselves (User-Agent `roam-<app>`), so a test can check that the
// RBAC rules in deploy/ cover every call each worker really makes.

export interface Call {
  agent: string;
  verb: string;
  /** API group ('' for core). */
  group: string;
  /** Plural resource, with `/subresource` when there is one (`pods/log`). */
  resource: string;
  namespaced: boolean;
}

export class CallLog {
  private readonly calls = new Map<string, Call>();

  record(call: Call): void {
    this.calls.set(
      `${call.agent}|${call.verb}|${call.group}|${call.resource}|${call.namespaced}`,
      call,
    );
  }

  /** Every distinct call, optionally of the agents whose name starts with `prefix`. */
  list(prefix = ''): Call[] {
    return [...this.calls.values()].filter((call) => call.agent.startsWith(prefix));
  }
}

/** The RBAC verb of a request on a resource path. */
export function verbOf(method: string, named: boolean, watch: boolean): string {
  if (method === 'GET') return watch ? 'watch' : named ? 'get' : 'list';
  if (method === 'POST') return 'create';
  if (method === 'PUT') return 'update';
  if (method === 'PATCH') return 'patch';
  if (method === 'DELETE') return named ? 'delete' : 'deletecollection';
  return method.toLowerCase();
}
