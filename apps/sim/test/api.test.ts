// Conformance-style checks of the API surface through @kubernetes/client-node.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CoreV1Api,
  CustomObjectsApi,
  CoordinationV1Api,
  type KubeConfig,
  makeInformer,
  type V1ConfigMap,
  Watch,
} from '@kubernetes/client-node';
import type { RunningSimulator } from '../src/index.js';
import { eventually, startTestSimulator, statusBody, statusCode } from './helpers.js';

let sim: RunningSimulator;
let kc: KubeConfig;
let core: CoreV1Api;

beforeAll(async () => {
  ({ sim, kc } = await startTestSimulator());
  core = kc.makeApiClient(CoreV1Api);
});

afterAll(async () => {
  await sim.close();
});

describe('discovery and health', () => {
  it('serves /version, /api and /apis groups including batch, coordination and jobset', async () => {
    const version = (await (await fetch(`${sim.url}/version`)).json()) as { gitVersion: string };
    expect(version.gitVersion).toContain('sim');
    const apis = (await (await fetch(`${sim.url}/apis`)).json()) as {
      groups: Array<{ name: string }>;
    };
    expect(apis.groups.map((g) => g.name).sort()).toEqual([
      'apps',
      'autoscaling',
      'batch',
      'coordination.k8s.io',
      'jobset.x-k8s.io',
      'kueue.x-k8s.io',
      'networking.k8s.io',
      'policy',
      'rbac.authorization.k8s.io',
    ]);
    const v1 = (await (await fetch(`${sim.url}/api/v1`)).json()) as {
      resources: Array<{ name: string }>;
    };
    expect(v1.resources.map((r) => r.name)).toEqual(
      expect.arrayContaining(['pods', 'pods/log', 'pods/eviction', 'nodes', 'resourcequotas']),
    );
  });

  it('says it is simulated in /healthz, /readyz and /livez', async () => {
    for (const path of ['/healthz', '/readyz', '/livez']) {
      const res = await fetch(`${sim.url}${path}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('simulated');
    }
  });

  it('renders Table output with columns for kubectl', async () => {
    const res = await fetch(`${sim.url}/api/v1/nodes`, {
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
    });
    const table = (await res.json()) as {
      kind: string;
      columnDefinitions: Array<{ name: string }>;
      rows: unknown[];
    };
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((c) => c.name)).toEqual(
      expect.arrayContaining(['Name', 'Status', 'Age']),
    );
    expect(table.rows.length).toBe(9);
  });
});

describe('objects', () => {
  it('creates, gets and lists with label and field selectors', async () => {
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'a1', labels: { team: 'x' } }, data: { k: 'v' } },
    });
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'a2', labels: { team: 'y' } } },
    });
    const got = await core.readNamespacedConfigMap({ namespace: 'default', name: 'a1' });
    expect(got.data).toEqual({ k: 'v' });
    expect(got.metadata?.uid).toBeTruthy();
    const byLabel = await core.listNamespacedConfigMap({
      namespace: 'default',
      labelSelector: 'team in (x,z)',
    });
    expect(byLabel.items.map((c) => c.metadata?.name)).toEqual(['a1']);
    const byField = await core.listConfigMapForAllNamespaces({
      fieldSelector: 'metadata.name=a2,metadata.namespace=default',
    });
    expect(byField.items.map((c) => c.metadata?.name)).toEqual(['a2']);
  });

  it('pages with limit and continue', async () => {
    for (let i = 0; i < 5; i += 1)
      await core.createNamespacedSecret({
        namespace: 'default',
        body: { metadata: { name: `page-${i}` }, stringData: { n: String(i) } },
      });
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedSecret({
        namespace: 'default',
        limit: 2,
        _continue: cont,
      });
      names.push(...page.items.map((s) => s.metadata?.name ?? ''));
      cont = page.metadata?._continue;
      pages += 1;
    } while (cont);
    expect(pages).toBe(3);
    expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    const one = await core.readNamespacedSecret({ namespace: 'default', name: 'page-3' });
    expect(Buffer.from(one.data?.n ?? '', 'base64').toString()).toBe('3');
  });

  it('rejects a duplicate create with 409 AlreadyExists', async () => {
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'dup' } },
    });
    const err = await core
      .createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'dup' } } })
      .catch((e: unknown) => e);
    expect(statusCode(err)).toBe(409);
    expect(statusBody(err).reason).toBe('AlreadyExists');
  });

  it('rejects a stale resourceVersion on update with 409 Conflict', async () => {
    const cm = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'occ' }, data: { n: '1' } },
    });
    await core.replaceNamespacedConfigMap({
      namespace: 'default',
      name: 'occ',
      body: { ...cm, data: { n: '2' } },
    });
    const err = await core
      .replaceNamespacedConfigMap({
        namespace: 'default',
        name: 'occ',
        body: { ...cm, data: { n: '3' } },
      })
      .catch((e: unknown) => e);
    expect(statusCode(err)).toBe(409);
    expect(statusBody(err).reason).toBe('Conflict');
    expect(
      (await core.readNamespacedConfigMap({ namespace: 'default', name: 'occ' })).data,
    ).toEqual({ n: '2' });
  });

  it('returns 422 Invalid for bad names and missing fields, 404 for a missing namespace', async () => {
    const bad = await core
      .createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'Not_Valid' } },
      })
      .catch((e: unknown) => e);
    expect(statusCode(bad)).toBe(422);
    expect(statusBody(bad).reason).toBe('Invalid');
    const noContainers = await core
      .createNamespacedPod({
        namespace: 'default',
        body: { metadata: { name: 'p' }, spec: { containers: [] } },
      })
      .catch((e: unknown) => e);
    expect(statusCode(noContainers)).toBe(422);
    expect(statusBody(noContainers).message).toContain('spec.containers: Required value');
    const noNs = await core
      .createNamespacedConfigMap({ namespace: 'missing', body: { metadata: { name: 'x' } } })
      .catch((e: unknown) => e);
    expect(statusCode(noNs)).toBe(404);
    expect(statusBody(noNs).message).toBe('namespaces "missing" not found');
    const missing = await core
      .readNamespacedConfigMap({ namespace: 'default', name: 'nope' })
      .catch((e: unknown) => e);
    expect(statusCode(missing)).toBe(404);
  });

  it('survives malformed input with a Status body', async () => {
    const res = await fetch(`${sim.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { kind: string }).kind).toBe('Status');
    const patch = await fetch(`${sim.url}/api/v1/namespaces/default/configmaps/a1`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json-patch+json' },
      body: '[{"op":"remove","path":"/nope/x"}]',
    });
    expect(patch.status).toBe(400);
    expect((await fetch(`${sim.url}/api/v1/nodes`)).status).toBe(200);
  });

  it('applies merge, strategic-merge and JSON patches', async () => {
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'patchme', annotations: { 'sim.roam.dev/duration': '1h' } },
        spec: {
          containers: [
            { name: 'a', image: 'x', env: [{ name: 'A', value: '1' }] },
            { name: 'b', image: 'y' },
          ],
        },
      },
    });
    const smp = await fetch(`${sim.url}/api/v1/namespaces/default/pods/patchme`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/strategic-merge-patch+json' },
      body: JSON.stringify({
        metadata: { labels: { l: '1' } },
        spec: { containers: [{ name: 'a', env: [{ name: 'B', value: '2' }] }] },
      }),
    });
    const pod = (await smp.json()) as {
      spec: { containers: Array<{ name: string; image: string; env?: unknown[] }> };
    };
    expect(pod.spec.containers.map((c) => c.name)).toEqual(['a', 'b']);
    expect(pod.spec.containers[0]!.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
    const merged = await fetch(`${sim.url}/api/v1/namespaces/default/pods/patchme`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { labels: { l: null, m: '2' } } }),
    });
    expect(((await merged.json()) as { metadata: { labels: unknown } }).metadata.labels).toEqual({
      m: '2',
    });
    const jp = await fetch(`${sim.url}/api/v1/namespaces/default/pods/patchme`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'replace', path: '/metadata/labels/m', value: '3' }]),
    });
    expect(((await jp.json()) as { metadata: { labels: unknown } }).metadata.labels).toEqual({
      m: '3',
    });
  });

  it('stores leases with optimistic concurrency for leader election', async () => {
    const coord = kc.makeApiClient(CoordinationV1Api);
    const lease = await coord.createNamespacedLease({
      namespace: 'default',
      body: {
        metadata: { name: 'leader' },
        spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
      },
    });
    await coord.replaceNamespacedLease({
      namespace: 'default',
      name: 'leader',
      body: { ...lease, spec: { holderIdentity: 'b' } },
    });
    const err = await coord
      .replaceNamespacedLease({
        namespace: 'default',
        name: 'leader',
        body: { ...lease, spec: { holderIdentity: 'c' } },
      })
      .catch((e: unknown) => e);
    expect(statusCode(err)).toBe(409);
  });
});

describe('custom resource types', () => {
  it('serves a type registered at run time through discovery, CRUD and tables', async () => {
    sim.registry.register({
      group: 'example.roam.dev',
      version: 'v1alpha1',
      kind: 'Widget',
      plural: 'widgets',
      singular: 'widget',
      namespaced: false,
      subresources: ['status'],
    });
    const group = (await (await fetch(`${sim.url}/apis/example.roam.dev/v1alpha1`)).json()) as {
      resources: Array<{ name: string }>;
    };
    expect(group.resources.map((r) => r.name)).toEqual(['widgets', 'widgets/status']);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.createClusterCustomObject({
      group: 'example.roam.dev',
      version: 'v1alpha1',
      plural: 'widgets',
      body: {
        apiVersion: 'example.roam.dev/v1alpha1',
        kind: 'Widget',
        metadata: { name: 'w' },
        spec: { size: 'all' },
      },
    });
    const got = (await custom.getClusterCustomObject({
      group: 'example.roam.dev',
      version: 'v1alpha1',
      plural: 'widgets',
      name: 'w',
    })) as { spec: { size: string } };
    expect(got.spec.size).toBe('all');
  });
});

describe('watch', () => {
  it('streams events and resumes from a resourceVersion', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    const rv = list.metadata?.resourceVersion ?? '';
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'w1' } },
    });
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'w1' });
    const seen: string[] = [];
    const watch = new Watch(kc);
    const ctl = await watch.watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: rv, allowWatchBookmarks: true },
      (type, obj: V1ConfigMap) => {
        if (obj.metadata?.name?.startsWith('w')) seen.push(`${type}:${obj.metadata.name}`);
      },
      () => undefined,
    );
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'w2' } },
    });
    await eventually('watch events', () => seen.length >= 3);
    ctl.abort();
    expect(seen).toEqual(['ADDED:w1', 'DELETED:w1', 'ADDED:w2']);
  });

  it('answers a too-old resourceVersion with 410 Gone', async () => {
    sim.store.compact();
    const errors: unknown[] = [];
    const types: string[] = [];
    const watch = new Watch(kc);
    await watch.watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: '1' },
      (type, obj) => {
        types.push(type);
        errors.push(obj);
      },
      () => undefined,
    );
    await eventually('error event', () => types.length > 0);
    expect(types[0]).toBe('ERROR');
    expect((errors[0] as { code: number }).code).toBe(410);
  });

  it('keeps an informer cache in sync', async () => {
    const informer = makeInformer(kc, '/api/v1/namespaces/default/configmaps', () =>
      core.listNamespacedConfigMap({ namespace: 'default' }),
    );
    const added: string[] = [];
    informer.on('add', (obj) => added.push(obj.metadata?.name ?? ''));
    await informer.start();
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'inf-1' } },
    });
    await eventually('informer add', () => added.includes('inf-1'));
    expect(informer.list().some((c) => c.metadata?.name === 'inf-1')).toBe(true);
    await informer.stop();
  });
});
