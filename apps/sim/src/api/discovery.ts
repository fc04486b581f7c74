// Discovery documents, a minimal OpenAPI v3 and Table rendering: what kubectl reads before it
// touches a resource.
import type { KubeObject, Registry, ResourceType } from './registry.js';
import { apiVersionOf } from './registry.js';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-sim',
  gitCommit: 'simulated',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function resourceEntries(t: ResourceType): object[] {
  const main: Record<string, unknown> = {
    name: t.plural,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: VERBS,
  };
  if (t.shortNames) main.shortNames = t.shortNames;
  if (t.categories) main.categories = t.categories;
  const subs = (t.subresources ?? []).map((s) => {
    const verbs =
      s === 'log'
        ? ['get']
        : s === 'eviction' || s === 'binding'
          ? ['create']
          : ['get', 'patch', 'update'];
    const kind =
      s === 'eviction' ? 'Eviction' : s === 'binding' ? 'Binding' : s === 'log' ? 'Pod' : t.kind;
    return {
      name: `${t.plural}/${s}`,
      singularName: '',
      namespaced: t.namespaced,
      kind,
      verbs,
      ...(s === 'eviction' ? { group: 'policy', version: 'v1' } : {}),
    };
  });
  return [main, ...subs];
}

export function apiVersions(): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
  };
}

export function apiGroupList(registry: Registry): object {
  const groups = [...registry.groupVersions()]
    .filter(([g]) => g !== '')
    .map(([name, versions]) => apiGroup(name, versions));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(name: string, versions: string[]): object {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { kind: 'APIGroup', apiVersion: 'v1', name, versions: vs, preferredVersion: vs[0] };
}

export function apiResourceList(
  registry: Registry,
  group: string,
  version: string,
): object | undefined {
  const types = registry.all().filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: types.flatMap(resourceEntries),
  };
}

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openApiRoot(registry: Registry): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [group, versions] of registry.groupVersions()) {
    for (const v of versions) {
      const p = gvPath(group, v);
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=sim${registry.all().length}` };
    }
  }
  return { paths };
}

/**
 * One PATCH operation per resource, carrying the GVK extension and the fieldValidation
 * parameter: kubectl then validates on the server instead of downloading full schemas.
 * No strategic-merge content type is advertised, so kubectl computes strategic patches
 * from its compiled-in types (and JSON merge patches for CRDs).
 */
export function openApiGroupVersion(
  registry: Registry,
  group: string,
  version: string,
): object | undefined {
  const types = registry.all().filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const paths: Record<string, object> = {};
  const schemas: Record<string, object> = {};
  for (const t of types) {
    const base = `/${gvPath(group, version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}/{name}`;
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    const params = [
      { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
      { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
      { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
    ];
    paths[base] = {
      patch: {
        operationId: `patch${t.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        parameters: params,
        requestBody: {
          content: {
            'application/json-patch+json': {},
            'application/merge-patch+json': {},
            'application/apply-patch+yaml': {},
          },
        },
      },
    };
    schemas[`sim.${t.group || 'core'}.${t.version}.${t.kind}`] = {
      type: 'object',
      'x-kubernetes-group-version-kind': [gvk],
      'x-kubernetes-preserve-unknown-fields': true,
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes (simulated)', version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas },
  };
}

export function toTable(
  t: ResourceType,
  objects: KubeObject[],
  resourceVersion: string,
  includeObject: string,
  cont?: string,
): object {
  const now = Date.now();
  const columns = t.columns ?? [
    { name: 'Age', type: 'string' as const, cell: (o: KubeObject, n: number) => ageOf(o, n) },
  ];
  const defs = [
    {
      name: 'Name',
      type: 'string',
      format: 'name',
      description: 'Name must be unique within a namespace.',
      priority: 0,
    },
    ...columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description ?? c.name,
      priority: c.priority ?? 0,
    })),
  ];
  const rows = objects.map((o) => ({
    cells: [o.metadata.name ?? '', ...columns.map((c) => c.cell(o, now))],
    object:
      includeObject === 'Object'
        ? o
        : includeObject === 'None'
          ? undefined
          : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
  }));
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...(cont ? { continue: cont } : {}) },
    columnDefinitions: defs,
    rows,
  };
}

function ageOf(o: KubeObject, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(o.metadata.creationTimestamp ?? '')) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept);
}

export { apiVersionOf };
