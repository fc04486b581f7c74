// URL → (type, namespace, name, subresource) for /api and /apis paths.
import type { Registry, ResourceType } from './registry.js';

export interface ResourceRequest {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  /** Legacy `/watch/` path prefix. */
  watchPrefix: boolean;
}

export type Route =
  | { kind: 'resource'; req: ResourceRequest }
  | { kind: 'discovery'; group: string | undefined; version: string | undefined; legacy: boolean }
  | { kind: 'unknown' };

export function route(registry: Registry, pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (parts[0] === 'api') {
    if (parts.length === 1)
      return { kind: 'discovery', group: undefined, version: undefined, legacy: true };
    group = '';
    version = parts[1];
    rest = parts.slice(2);
    if (rest.length === 0) return { kind: 'discovery', group: '', version, legacy: true };
  } else if (parts[0] === 'apis') {
    if (parts.length === 1)
      return { kind: 'discovery', group: undefined, version: undefined, legacy: false };
    group = parts[1]!;
    version = parts[2];
    if (!version) return { kind: 'discovery', group, version: undefined, legacy: false };
    rest = parts.slice(3);
    if (rest.length === 0) return { kind: 'discovery', group, version, legacy: false };
  } else {
    return { kind: 'unknown' };
  }
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    // /namespaces/{ns}/{plural}... — but /namespaces/{name}/status|finalize is the namespace itself.
    const nsType = registry.lookup(group, version!, 'namespaces');
    if (rest.length === 3 && nsType && (rest[2] === 'status' || rest[2] === 'finalize')) {
      return {
        kind: 'resource',
        req: {
          type: nsType,
          namespace: undefined,
          name: rest[1],
          subresource: rest[2],
          watchPrefix,
        },
      };
    }
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const type = registry.lookup(group, version!, rest[0] ?? '');
  if (!type || rest.length > 3) return { kind: 'unknown' };
  if (namespace !== undefined && !type.namespaced) return { kind: 'unknown' };
  return {
    kind: 'resource',
    req: { type, namespace, name: rest[1], subresource: rest[2], watchPrefix },
  };
}
