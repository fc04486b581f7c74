import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunningSimulator, startSimulator } from '@roam/sim';
import { eventually } from '@roam/testing';

import { isForbidden, KubeError } from '../src/errors.js';
import { Kube, type KubernetesObject } from '../src/kube.js';
import { UNFINISHED_PODS } from '../src/labels.js';

interface Job extends KubernetesObject {
  status?: { succeeded?: number; conditions?: { type: string; status: string }[] };
}

describe('Kube port against the simulator', () => {
  let sim: RunningSimulator;
  let dir: string;
  let kube: Kube;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'roam-kube-'));
    sim = await startSimulator({
      port: 0,
      speed: 100,
      kubeconfigPath: join(dir, 'kubeconfig'),
      log: () => {},
    });
    kube = Kube.fromKubeconfig(sim.kubeconfigPath);
  });

  afterAll(async () => {
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'roam-a', labels: { 'app.kubernetes.io/managed-by': 'roam' } },
  };

  it('creates once and adopts on a second create', async () => {
    expect((await kube.createOrAdopt(namespace)).created).toBe(true);
    const again = await kube.createOrAdopt(namespace);
    expect(again.created).toBe(false);
    expect(again.object.metadata?.name).toBe('roam-a');
  });

  it('creates if absent: true once, false while one of that name exists, and errors as they are', async () => {
    const configMap = (name: string, value: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'roam-a' },
      data: { value },
    });
    expect(await kube.createIfAbsent(configMap('once', 'first'))).toBe(true);
    expect(await kube.createIfAbsent(configMap('once', 'second'))).toBe(false);
    // The existing object is left as it was.
    const read = await kube.get<KubernetesObject & { data: { value: string } }>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'once',
      namespace: 'roam-a',
    });
    expect(read?.data.value).toBe('first');
    const error = await kube
      .createIfAbsent(configMap('Bad_Name', 'x'))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KubeError);
    expect((error as KubeError).status).toBe(422);
  });

  it('upserts: creates, then merge-patches to the new spec', async () => {
    const quota = (cpu: string) => ({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'roam-quota', namespace: 'roam-a' },
      spec: { hard: { 'requests.cpu': cpu, pods: '10' } },
    });
    expect(await kube.upsert(quota('2'))).toBe('created');
    expect(await kube.upsert(quota('4'))).toBe('updated');
    const read = await kube.get<KubernetesObject & { spec: { hard: Record<string, string> } }>({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      name: 'roam-quota',
      namespace: 'roam-a',
    });
    expect(read?.spec.hard['requests.cpu']).toBe('4');
  });

  it('reports NotFound as undefined / false, and other errors as KubeError with the reason', async () => {
    expect(
      await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'nope', namespace: 'roam-a' }),
    ).toBeUndefined();
    expect(
      await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'nope', namespace: 'roam-a' }),
    ).toBe(false);
    const error = await kube
      .create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'Bad_Name', namespace: 'roam-a' },
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KubeError);
    expect((error as KubeError).status).toBe(422);
  });

  it('surfaces quota rejections as Forbidden', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'big', namespace: 'roam-a' },
      spec: {
        containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '8' } } }],
      },
    };
    const error = await kube.create(pod).catch((caught: unknown) => caught);
    expect(isForbidden(error)).toBe(true);
  });

  it('runs a Job, lists it by label, reads its pod log, and deletes it', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'hello', namespace: 'roam-a', labels: { 'roam.dev/job-id': 'j1' } },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'main',
                image: 'busybox',
                command: ['sh', '-c', 'echo hello from roam'],
                resources: { requests: { cpu: '100m' } },
              },
            ],
          },
        },
      },
    };
    await kube.create(job);
    const page = await kube.list<Job>('batch/v1', 'Job', {
      namespace: 'roam-a',
      labelSelector: 'roam.dev/job-id=j1',
    });
    expect(page.items.map((item) => item.metadata?.name)).toEqual(['hello']);
    await eventually('the job to complete', async () => {
      const current = await kube.get<Job>({
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: 'hello',
        namespace: 'roam-a',
      });
      return current?.status?.succeeded === 1;
    });
    const pods = await kube.list<KubernetesObject>('v1', 'Pod', {
      namespace: 'roam-a',
      labelSelector: 'job-name=hello',
    });
    const podName = pods.items[0]?.metadata?.name;
    expect(podName).toBeDefined();
    expect(await kube.logs('roam-a', podName!)).toContain('hello from roam');
    expect(
      await kube.delete({
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: 'hello',
        namespace: 'roam-a',
      }),
    ).toBe(true);
  });

  it('pages through every item with listAll', async () => {
    for (let i = 0; i < 7; i += 1) {
      await kube.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${i}`, namespace: 'roam-a' },
      });
    }
    const names: string[] = [];
    for await (const item of kube.listAll('v1', 'ConfigMap', { namespace: 'roam-a', limit: 3 }))
      names.push(item.metadata!.name!);
    expect(names.filter((name) => name.startsWith('cm-')).sort()).toEqual([
      'cm-0',
      'cm-1',
      'cm-2',
      'cm-3',
      'cm-4',
      'cm-5',
      'cm-6',
    ]);
  });

  it('keeps a pod in an informer of unfinished pods while it runs, and drops it once it finished', async () => {
    const informer = kube.informer<KubernetesObject & { status?: { phase?: string } }>(
      '/api/v1/pods',
      'v1',
      'Pod',
      { labelSelector: 'test=unfinished', fieldSelector: UNFINISHED_PODS },
    );
    const seen: string[] = [];
    informer.on('add', (pod) => seen.push(`add ${pod.status?.phase ?? '-'}`));
    informer.on('delete', () => seen.push('delete'));
    await informer.start();
    try {
      await kube.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'brief', namespace: 'roam-a', labels: { test: 'unfinished' } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'main',
              image: 'busybox',
              command: ['sh', '-c', 'sleep 2'],
              resources: { requests: { cpu: '100m' } },
            },
          ],
        },
      });
      // Recorded as it happens: the pod may hold the informer only briefly.
      await eventually('the informer to add the pod', () =>
        Promise.resolve(seen.some((event) => event.startsWith('add'))),
      );
      // Added while it had not finished (the view holds unfinished pods only).
      expect(seen[0]).toMatch(/^add (Pending|Running)$/);
      await eventually('the pod to finish and leave the informer', async () => {
        const pod = await kube.get<KubernetesObject & { status?: { phase?: string } }>({
          apiVersion: 'v1',
          kind: 'Pod',
          name: 'brief',
          namespace: 'roam-a',
        });
        return pod?.status?.phase === 'Succeeded' && informer.list().length === 0;
      });
      expect(seen.at(-1)).toBe('delete');
      // A fresh list agrees: the finished pod is not in it.
      const listed = await kube.list('v1', 'Pod', {
        namespace: 'roam-a',
        labelSelector: 'test=unfinished',
        fieldSelector: UNFINISHED_PODS,
      });
      expect(listed.items).toEqual([]);
    } finally {
      await informer.stop();
      await kube.delete({ apiVersion: 'v1', kind: 'Pod', name: 'brief', namespace: 'roam-a' });
    }
  });
});
