// The simulator's Kueue: served CRDs, Workloads for queued Jobs, admission by quota with
// cohort borrowing, the visibility API and kubectl, through @kubernetes/client-node.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1Job,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningSimulator, startSimulator, type Workload } from '../src/index.js';
import { eventually, statusCode } from './helpers.js';

let sim: RunningSimulator;
let kc: KubeConfig;
let core: CoreV1Api;
let batch: BatchV1Api;
let custom: CustomObjectsApi;
let dir: string;

const group = 'kueue.x-k8s.io';
const version = 'v1beta1';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roam-sim-kueue-'));
  sim = await startSimulator({ port: 0, speed: 200, kubeconfigPath: join(dir, 'kubeconfig') });
  kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  batch = kc.makeApiClient(BatchV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  await custom.createClusterCustomObject({
    group,
    version,
    plural: 'resourceflavors',
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'ResourceFlavor',
      metadata: { name: 'default' },
    },
  });
});

afterAll(async () => {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
});

async function clusterQueue(name: string, cpu: string, extra: Record<string, unknown> = {}) {
  await custom.createClusterCustomObject({
    group,
    version,
    plural: 'clusterqueues',
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'ClusterQueue',
      metadata: { name },
      spec: {
        resourceGroups: [
          {
            coveredResources: ['cpu', 'memory', 'pods'],
            flavors: [
              {
                name: 'default',
                resources: [
                  { name: 'cpu', nominalQuota: cpu },
                  { name: 'memory', nominalQuota: '64Gi' },
                  { name: 'pods', nominalQuota: '100' },
                ],
              },
            ],
          },
        ],
        ...extra,
      },
    },
  });
}

async function namespaceWithQueue(ns: string, cq: string, queue = 'user-queue') {
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await custom.createNamespacedCustomObject({
    group,
    version,
    namespace: ns,
    plural: 'localqueues',
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'LocalQueue',
      metadata: { name: queue },
      spec: { clusterQueue: cq },
    },
  });
}

function job(name: string, cpu: string, command: string, queue = 'user-queue'): V1Job {
  return {
    metadata: { name, labels: { 'kueue.x-k8s.io/queue-name': queue } },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'main',
              image: 'busybox',
              command: ['sh', '-c', command],
              resources: { requests: { cpu, memory: '64Mi' } },
            },
          ],
        },
      },
    },
  };
}

async function workloadOf(ns: string, jobName: string): Promise<Workload | undefined> {
  const list = (await custom.listNamespacedCustomObject({
    group,
    version,
    namespace: ns,
    plural: 'workloads',
  })) as { items: Workload[] };
  return list.items.find((w) => w.metadata.ownerReferences?.some((o) => o.name === jobName));
}

const condition = (wl: Workload | undefined, type: string) =>
  wl?.status?.conditions?.find((c) => c.type === type);

describe('Kueue in the simulator', () => {
  it('suspends a queued Job, admits its Workload by quota, runs it and finishes the Workload', async () => {
    await clusterQueue('cq-run', '2');
    await namespaceWithQueue('kq-run', 'cq-run');
    await batch.createNamespacedJob({
      namespace: 'kq-run',
      body: job('first', '1', 'echo hi; sleep 5'),
    });
    const admitted = await eventually('the Workload admitted', async () => {
      const wl = await workloadOf('kq-run', 'first');
      return condition(wl, 'Admitted')?.status === 'True' ? wl : undefined;
    });
    expect(admitted.spec?.queueName).toBe('user-queue');
    expect(condition(admitted, 'QuotaReserved')).toMatchObject({
      status: 'True',
      reason: 'QuotaReserved',
      message: 'Quota reserved in ClusterQueue cq-run',
    });
    expect(admitted.status?.admission?.podSetAssignments[0]).toMatchObject({
      name: 'main',
      flavors: { cpu: 'default', memory: 'default', pods: 'default' },
      resourceUsage: { cpu: '1', memory: '64Mi', pods: '1' },
    });

    const done = await eventually('the Job completes', async () => {
      const j = await batch.readNamespacedJob({ namespace: 'kq-run', name: 'first' });
      return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')
        ? j
        : undefined;
    });
    expect(done.spec?.suspend).toBe(false);
    const finished = await eventually('the Workload finished', async () => {
      const wl = await workloadOf('kq-run', 'first');
      return condition(wl, 'Finished')?.status === 'True' ? wl : undefined;
    });
    expect(condition(finished, 'Finished')?.reason).toBe('Succeeded');

    const cq = (await custom.getClusterCustomObject({
      group,
      version,
      plural: 'clusterqueues',
      name: 'cq-run',
    })) as { status?: { admittedWorkloads?: number; pendingWorkloads?: number } };
    expect(cq.status).toMatchObject({ admittedWorkloads: 0, pendingWorkloads: 0 });

    // Deleting the Job takes its Workload with it.
    await batch.deleteNamespacedJob({
      namespace: 'kq-run',
      name: 'first',
      propagationPolicy: 'Background',
    });
    await eventually(
      'the Workload deleted',
      async () => (await workloadOf('kq-run', 'first')) === undefined,
    );
  });

  it('keeps a Workload pending while quota is used, shows its position, admits it once quota frees', async () => {
    await clusterQueue('cq-wait', '1');
    await namespaceWithQueue('kq-wait', 'cq-wait');
    await batch.createNamespacedJob({
      namespace: 'kq-wait',
      body: job('holder', '1', 'sleep 100000'),
    });
    await eventually(
      'holder admitted',
      async () => condition(await workloadOf('kq-wait', 'holder'), 'Admitted')?.status === 'True',
    );
    await batch.createNamespacedJob({
      namespace: 'kq-wait',
      body: job('waiter', '500m', 'echo ok'),
    });
    const pending = await eventually('waiter pending', async () => {
      const wl = await workloadOf('kq-wait', 'waiter');
      return condition(wl, 'QuotaReserved')?.status === 'False' ? wl : undefined;
    });
    expect(condition(pending, 'QuotaReserved')).toMatchObject({
      reason: 'Pending',
      message:
        "couldn't assign flavors to pod set main: insufficient unused quota for cpu in flavor default, 500m more needed",
    });
    expect(
      (await batch.readNamespacedJob({ namespace: 'kq-wait', name: 'waiter' })).spec?.suspend,
    ).toBe(true);

    const res = await fetch(
      `${sim.url}/apis/visibility.kueue.x-k8s.io/v1beta1/namespaces/kq-wait/localqueues/user-queue/pendingworkloads`,
    );
    expect(res.status).toBe(200);
    const summary = (await res.json()) as {
      items: {
        metadata: { name: string };
        positionInLocalQueue: number;
        positionInClusterQueue: number;
      }[];
    };
    expect(summary.items).toEqual([
      expect.objectContaining({
        metadata: expect.objectContaining({ name: pending.metadata.name }),
        positionInLocalQueue: 0,
        positionInClusterQueue: 0,
        localQueueName: 'user-queue',
      }),
    ]);
    const byCq = await fetch(
      `${sim.url}/apis/visibility.kueue.x-k8s.io/v1beta1/clusterqueues/cq-wait/pendingworkloads`,
    );
    expect(((await byCq.json()) as { items: unknown[] }).items).toHaveLength(1);

    await batch.deleteNamespacedJob({
      namespace: 'kq-wait',
      name: 'holder',
      propagationPolicy: 'Background',
    });
    await eventually(
      'waiter admitted',
      async () => condition(await workloadOf('kq-wait', 'waiter'), 'Admitted')?.status === 'True',
    );
  });

  it('borrows unused quota from the cohort', async () => {
    await clusterQueue('cq-lender', '4', { cohort: 'pool' });
    await clusterQueue('cq-borrower', '1', { cohort: 'pool' });
    await namespaceWithQueue('kq-borrow', 'cq-borrower');
    await batch.createNamespacedJob({ namespace: 'kq-borrow', body: job('big', '3', 'echo big') });
    const wl = await eventually('borrowed admission', async () => {
      const w = await workloadOf('kq-borrow', 'big');
      return condition(w, 'Admitted')?.status === 'True' ? w : undefined;
    });
    expect(wl.status?.admission?.clusterQueue).toBe('cq-borrower');
  });

  it('marks a Workload whose LocalQueue does not exist inadmissible', async () => {
    await core.createNamespace({ body: { metadata: { name: 'kq-none' } } });
    await batch.createNamespacedJob({
      namespace: 'kq-none',
      body: job('orphan', '100m', 'true', 'nowhere'),
    });
    const wl = await eventually('inadmissible', async () => {
      const w = await workloadOf('kq-none', 'orphan');
      return condition(w, 'QuotaReserved') ? w : undefined;
    });
    expect(condition(wl, 'QuotaReserved')).toMatchObject({
      status: 'False',
      reason: 'Inadmissible',
      message: "LocalQueue nowhere doesn't exist",
    });
    // Kueue's webhook suspended it at create, and nothing admits it.
    expect(
      (await batch.readNamespacedJob({ namespace: 'kq-none', name: 'orphan' })).spec?.suspend,
    ).toBe(true);
  });

  it('refuses a ClusterQueue with a bad quota or strategy (422)', async () => {
    const bad = custom.createClusterCustomObject({
      group,
      version,
      plural: 'clusterqueues',
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'ClusterQueue',
        metadata: { name: 'bad' },
        spec: {
          queueingStrategy: 'Random',
          resourceGroups: [
            {
              coveredResources: ['cpu'],
              flavors: [{ name: 'default', resources: [{ name: 'cpu', nominalQuota: 'lots' }] }],
            },
          ],
        },
      },
    });
    const code = await bad.then(
      () => 200,
      (err: unknown) => statusCode(err),
    );
    expect(code).toBe(422);
  });

  it('answers kubectl get clusterqueues,localqueues,workloads -A', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        'kubectl',
        ['--kubeconfig', sim.kubeconfigPath, 'get', 'clusterqueues,localqueues,workloads', '-A'],
        { timeout: 30_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout),
      ),
    );
    expect(out).toMatch(/clusterqueue\.kueue\.x-k8s\.io\/cq-wait\s+BestEffortFIFO/);
    expect(out).toMatch(/kq-wait\s+localqueue\.kueue\.x-k8s\.io\/user-queue\s+cq-wait/);
    expect(out).toMatch(
      /kq-wait\s+workload\.kueue\.x-k8s\.io\/job-waiter-\w+\s+user-queue\s+cq-wait\s+True/,
    );
  });

  it("admits a Workload only once its ClusterQueue's AdmissionChecks are Ready, and puts their podSetUpdates on the pod template", async () => {
    const mergeStatus = (path: string, status: unknown) =>
      fetch(`${sim.url}${path}/status`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ status }),
      });
    await clusterQueue('cq-check', '2', { admissionChecks: ['sim-check'] });
    await namespaceWithQueue('kq-check', 'cq-check');
    await batch.createNamespacedJob({
      namespace: 'kq-check',
      body: job('checked', '1', 'echo ok'),
    });
    // The check does not exist yet: the ClusterQueue admits nothing.
    const inactive = await eventually('the Workload held by the inactive queue', async () => {
      const wl = await workloadOf('kq-check', 'checked');
      return condition(wl, 'QuotaReserved')?.status === 'False' ? wl : undefined;
    });
    expect(condition(inactive, 'QuotaReserved')?.message).toBe('ClusterQueue cq-check is inactive');
    await custom.createClusterCustomObject({
      group,
      version,
      plural: 'admissionchecks',
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'AdmissionCheck',
        metadata: { name: 'sim-check' },
        spec: { controllerName: 'example.com/check' },
      },
    });
    const active = await mergeStatus(`/apis/${group}/${version}/admissionchecks/sim-check`, {
      conditions: [
        {
          type: 'Active',
          status: 'True',
          reason: 'Active',
          message: 'ready',
          lastTransitionTime: new Date().toISOString(),
        },
      ],
    });
    expect(active.status).toBe(200);

    // Quota reserved, the check Pending: not admitted, the Job stays suspended.
    const reserved = await eventually('quota reserved with the check Pending', async () => {
      const wl = await workloadOf('kq-check', 'checked');
      return condition(wl, 'QuotaReserved')?.status === 'True' ? wl : undefined;
    });
    expect(reserved.status?.admissionChecks).toEqual([
      expect.objectContaining({ name: 'sim-check', state: 'Pending' }),
    ]);
    expect(condition(reserved, 'Admitted')?.status).not.toBe('True');
    const path = `/apis/${group}/${version}/namespaces/kq-check/workloads/${reserved.metadata.name}`;

    // Retry: evicted, quota given back, the check Pending again once quota is reserved again.
    await mergeStatus(path, {
      admissionChecks: [
        {
          name: 'sim-check',
          state: 'Retry',
          message: 'not yet',
          lastTransitionTime: new Date().toISOString(),
        },
      ],
    });
    await eventually('the Workload evicted for the check, then reserved again', async () => {
      const wl = await workloadOf('kq-check', 'checked');
      return (
        // Evicted True (AdmissionCheck), then False once reserved again, its message kept.
        (condition(wl, 'Evicted')?.message ?? '').includes(
          'At least one admission check is false',
        ) &&
        condition(wl, 'QuotaReserved')?.status === 'True' &&
        wl?.status?.admissionChecks?.[0]?.state === 'Pending'
      );
    });
    expect(
      (await batch.readNamespacedJob({ namespace: 'kq-check', name: 'checked' })).spec?.suspend,
    ).toBe(true);

    // Ready with an annotation: admitted, and the Job starts with it on its pod template.
    const current = (await workloadOf('kq-check', 'checked'))!;
    const ready = await mergeStatus(path, {
      admissionChecks: [
        {
          name: 'sim-check',
          state: 'Ready',
          message: 'done',
          lastTransitionTime: new Date().toISOString(),
          podSetUpdates: [{ name: 'main', annotations: { 'example.com/token': 'abc' } }],
        },
      ],
    });
    expect(ready.status).toBe(200);
    const started = await eventually('the Job unsuspended with the update', async () => {
      const j = await batch.readNamespacedJob({ namespace: 'kq-check', name: 'checked' });
      return j.spec?.suspend === false ? j : undefined;
    });
    expect(started.spec?.template.metadata?.annotations).toMatchObject({
      'example.com/token': 'abc',
    });
    expect(condition(await workloadOf('kq-check', 'checked'), 'Admitted')?.status).toBe('True');
    expect(current.metadata.name).toBe(reserved.metadata.name);

    // Rejected: a second Job's Workload is evicted and deactivated.
    await batch.createNamespacedJob({
      namespace: 'kq-check',
      body: job('rejected', '1', 'echo no'),
    });
    const second = await eventually('the second Workload reserved', async () => {
      const wl = await workloadOf('kq-check', 'rejected');
      return condition(wl, 'QuotaReserved')?.status === 'True' ? wl : undefined;
    });
    await mergeStatus(
      `/apis/${group}/${version}/namespaces/kq-check/workloads/${second.metadata.name}`,
      {
        admissionChecks: [
          {
            name: 'sim-check',
            state: 'Rejected',
            message: 'never',
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      },
    );
    const deactivated = await eventually('the second Workload deactivated', async () => {
      const wl = await workloadOf('kq-check', 'rejected');
      return wl?.spec?.active === false && condition(wl, 'Evicted')?.status === 'True'
        ? wl
        : undefined;
    });
    expect(condition(deactivated, 'Evicted')).toMatchObject({ reason: 'Deactivated' });
    expect(condition(deactivated, 'QuotaReserved')?.status).toBe('False');
  });

  it('admits an indexed Job for all its parallel pods, or keeps it pending past the maximum capacity', async () => {
    await clusterQueue('cq-indexed', '2');
    await namespaceWithQueue('kq-indexed', 'cq-indexed');
    const indexed = (name: string, parallelism: number): V1Job => {
      const base = job(name, '500m', 'echo "$JOB_COMPLETION_INDEX"');
      return {
        ...base,
        spec: { ...base.spec!, completionMode: 'Indexed', parallelism, completions: parallelism },
      };
    };
    await batch.createNamespacedJob({ namespace: 'kq-indexed', body: indexed('three', 3) });
    const admitted = await eventually('the indexed Job admitted', async () => {
      const wl = await workloadOf('kq-indexed', 'three');
      return condition(wl, 'Admitted')?.status === 'True' ? wl : undefined;
    });
    expect(admitted.metadata.name).toMatch(/^job-three-[0-9a-f]{5}$/);
    expect(admitted.spec?.podSets.map((p) => [p.name, p.count])).toEqual([['main', 3]]);
    expect(admitted.status?.admission?.podSetAssignments).toEqual([
      {
        name: 'main',
        count: 3,
        flavors: { cpu: 'default', memory: 'default', pods: 'default' },
        resourceUsage: { cpu: '1500m', memory: '192Mi', pods: '3' },
      },
    ]);
    await eventually('all three pods to complete', async () => {
      const j = await batch.readNamespacedJob({ namespace: 'kq-indexed', name: 'three' });
      return j.status?.succeeded === 3;
    });

    // Five pods of 500m never fit 2 CPU: Kueue says so, and reserves nothing of it.
    await batch.createNamespacedJob({ namespace: 'kq-indexed', body: indexed('five', 5) });
    const pending = await eventually('the five-pod Job pending', async () => {
      const wl = await workloadOf('kq-indexed', 'five');
      return condition(wl, 'QuotaReserved')?.status === 'False' ? wl : undefined;
    });
    expect(condition(pending, 'QuotaReserved')?.message).toBe(
      "couldn't assign flavors to pod set main: insufficient quota for cpu in flavor default, request > maximum capacity (2500m > 2)",
    );
    expect(pending.status?.admission).toBeUndefined();
    const five = await batch.readNamespacedJob({ namespace: 'kq-indexed', name: 'five' });
    expect(five.spec?.suspend).toBe(true);
  });

  it('runs a JobSet as one Workload of a pod set per replicated job, unsuspended on admission with each pod set updated', async () => {
    await clusterQueue('cq-jobset', '3', { admissionChecks: ['sim-check'] });
    await namespaceWithQueue('kq-jobset', 'cq-jobset');
    const replicated = (name: string, replicas: number, parallelism: number, cpu: string) => ({
      name,
      replicas,
      template: {
        spec: {
          parallelism,
          completions: parallelism,
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'main',
                  image: 'busybox',
                  command: ['sh', '-c', 'echo "$ROLE"; sleep 2'],
                  env: [{ name: 'ROLE', value: name }],
                  resources: { requests: { cpu, memory: '64Mi' } },
                },
              ],
            },
          },
        },
      },
    });
    const jobSet = (name: string, workerCpu: string) => ({
      apiVersion: 'jobset.x-k8s.io/v1alpha2',
      kind: 'JobSet',
      metadata: { name, labels: { 'kueue.x-k8s.io/queue-name': 'user-queue' } },
      spec: {
        replicatedJobs: [replicated('driver', 1, 1, '1'), replicated('workers', 2, 1, workerCpu)],
      },
    });
    const jobSets = { group: 'jobset.x-k8s.io', version: 'v1alpha2', plural: 'jobsets' };
    const readJobSet = async (name: string) =>
      (await custom.getNamespacedCustomObject({ ...jobSets, namespace: 'kq-jobset', name })) as {
        spec: {
          suspend?: boolean;
          replicatedJobs: {
            name: string;
            template: {
              spec: { template: { metadata?: { annotations?: Record<string, string> } } };
            };
          }[];
        };
        status?: { conditions?: { type: string; status: string }[] };
      };
    // Created without `suspend`: Kueue's webhook suspends it.
    await custom.createNamespacedCustomObject({
      ...jobSets,
      namespace: 'kq-jobset',
      body: jobSet('train', '1'),
    });
    expect((await readJobSet('train')).spec.suspend).toBe(true);
    const reserved = await eventually('quota reserved for the whole JobSet', async () => {
      const wl = await workloadOf('kq-jobset', 'train');
      return condition(wl, 'QuotaReserved')?.status === 'True' ? wl : undefined;
    });
    expect(reserved.metadata.name).toMatch(/^jobset-train-[0-9a-f]{5}$/);
    expect(reserved.metadata.ownerReferences?.[0]).toMatchObject({
      apiVersion: 'jobset.x-k8s.io/v1alpha2',
      kind: 'JobSet',
      name: 'train',
    });
    expect(reserved.spec?.podSets.map((p) => [p.name, p.count])).toEqual([
      ['driver', 1],
      ['workers', 2],
    ]);
    expect(
      reserved.status?.admission?.podSetAssignments.map((a) => [a.name, a.count, a.resourceUsage]),
    ).toEqual([
      ['driver', 1, { cpu: '1', memory: '64Mi', pods: '1' }],
      ['workers', 2, { cpu: '2', memory: '128Mi', pods: '2' }],
    ]);
    // Its check is Pending: the JobSet stays suspended and makes no Jobs until it is Ready.
    expect((await readJobSet('train')).spec.suspend).toBe(true);
    // The check (made Active by the test above) answers Ready with an update per pod set.
    const ready = await fetch(
      `${sim.url}/apis/${group}/${version}/namespaces/kq-jobset/workloads/${reserved.metadata.name}/status`,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({
          status: {
            admissionChecks: [
              {
                name: 'sim-check',
                state: 'Ready',
                message: 'ok',
                lastTransitionTime: new Date().toISOString(),
                podSetUpdates: ['driver', 'workers'].map((name) => ({
                  name,
                  annotations: { 'example.com/pod-set': name },
                })),
              },
            ],
          },
        }),
      },
    );
    expect(ready.status).toBe(200);
    const done = await eventually('the JobSet completes', async () => {
      const js = await readJobSet('train');
      return js.status?.conditions?.some((c) => c.type === 'Completed' && c.status === 'True')
        ? js
        : undefined;
    });
    expect(done.spec.suspend).toBe(false);
    expect(
      done.spec.replicatedJobs.map((rj) => [
        rj.name,
        rj.template.spec.template.metadata?.annotations?.['example.com/pod-set'],
      ]),
    ).toEqual([
      ['driver', 'driver'],
      ['workers', 'workers'],
    ]);
    const pods = await core.listNamespacedPod({ namespace: 'kq-jobset' });
    expect(pods.items).toHaveLength(3);
    const finished = await eventually('the Workload finished', async () => {
      const wl = await workloadOf('kq-jobset', 'train');
      return condition(wl, 'Finished')?.status === 'True' ? wl : undefined;
    });
    expect(condition(finished, 'Finished')).toMatchObject({
      reason: 'Succeeded',
      message: 'JobSet finished successfully',
    });

    // Two workers of 2 CPU and a driver of 1 never fit 3 CPU; the message names the pod set.
    await custom.createNamespacedCustomObject({
      ...jobSets,
      namespace: 'kq-jobset',
      body: jobSet('big', '2'),
    });
    const pending = await eventually('the big JobSet pending', async () => {
      const wl = await workloadOf('kq-jobset', 'big');
      return condition(wl, 'QuotaReserved')?.status === 'False' ? wl : undefined;
    });
    expect(condition(pending, 'QuotaReserved')?.message).toBe(
      "couldn't assign flavors to pod set workers: insufficient quota for cpu in flavor default, request > maximum capacity (5 > 3)",
    );
    // Deleting the JobSet takes its Workload with it.
    await custom.deleteNamespacedCustomObject({
      ...jobSets,
      namespace: 'kq-jobset',
      name: 'big',
      propagationPolicy: 'Background',
    });
    await eventually(
      'the Workload deleted',
      async () => (await workloadOf('kq-jobset', 'big')) === undefined,
    );
  });

  it("resumes an evicted JobSet's child Jobs with the pod set updates of its new admission", async () => {
    await clusterQueue('cq-readmit', '4', { admissionChecks: ['sim-check'] });
    await namespaceWithQueue('kq-readmit', 'cq-readmit');
    const jobSets = { group: 'jobset.x-k8s.io', version: 'v1alpha2', plural: 'jobsets' };
    const worker = {
      name: 'workers',
      replicas: 2,
      template: {
        spec: {
          parallelism: 1,
          completions: 1,
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'main',
                  image: 'busybox',
                  command: ['sleep', '100000'],
                  resources: { requests: { cpu: '1', memory: '64Mi' } },
                },
              ],
            },
          },
        },
      },
    };
    await custom.createNamespacedCustomObject({
      ...jobSets,
      namespace: 'kq-readmit',
      body: {
        apiVersion: 'jobset.x-k8s.io/v1alpha2',
        kind: 'JobSet',
        metadata: { name: 'long', labels: { 'kueue.x-k8s.io/queue-name': 'user-queue' } },
        spec: { replicatedJobs: [worker] },
      },
    });
    const answer = async (state: string, url: string) => {
      const wl = await eventually(`the check Pending before ${state}`, async () => {
        const w = await workloadOf('kq-readmit', 'long');
        return w?.status?.admissionChecks?.[0]?.state === 'Pending' &&
          condition(w, 'QuotaReserved')?.status === 'True'
          ? w
          : undefined;
      });
      const res = await fetch(
        `${sim.url}/apis/${group}/${version}/namespaces/kq-readmit/workloads/${wl.metadata.name}/status`,
        {
          method: 'PATCH',
          headers: { 'content-type': 'application/merge-patch+json' },
          body: JSON.stringify({
            status: {
              admissionChecks: [
                {
                  name: 'sim-check',
                  state,
                  message: state,
                  lastTransitionTime: new Date().toISOString(),
                  podSetUpdates: [{ name: 'workers', annotations: { 'example.com/url': url } }],
                },
              ],
            },
          }),
        },
      );
      expect(res.status).toBe(200);
    };
    const children = async () =>
      (await batch.listNamespacedJob({ namespace: 'kq-readmit' })).items.filter(
        (j) => j.metadata?.labels?.['jobset.sigs.k8s.io/jobset-name'] === 'long',
      );
    await answer('Ready', 'first');
    await eventually('two running child Jobs with the first update', async () => {
      const jobs = await children();
      return (
        jobs.length === 2 &&
        jobs.every(
          (j) =>
            !j.spec?.suspend &&
            j.spec?.template.metadata?.annotations?.['example.com/url'] === 'first',
        )
      );
    });
    // The check asks to retry: Kueue evicts the workload and the JobSet's Jobs are suspended.
    const wl = await workloadOf('kq-readmit', 'long');
    await fetch(
      `${sim.url}/apis/${group}/${version}/namespaces/kq-readmit/workloads/${wl!.metadata.name}/status`,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({
          status: {
            admissionChecks: [
              {
                name: 'sim-check',
                state: 'Retry',
                message: 'again',
                lastTransitionTime: new Date().toISOString(),
              },
            ],
          },
        }),
      },
    );
    await eventually('the child Jobs suspended', async () =>
      (await children()).every((j) => j.spec?.suspend === true),
    );
    await answer('Ready', 'second');
    const resumed = await eventually('the child Jobs resumed with the second update', async () => {
      const jobs = await children();
      return jobs.length === 2 &&
        jobs.every(
          (j) =>
            !j.spec?.suspend &&
            j.spec?.template.metadata?.annotations?.['example.com/url'] === 'second',
        )
        ? jobs
        : undefined;
    });
    // Still the JobSet's own labels: the child Jobs keep what makes them the JobSet's.
    expect(resumed[0]?.spec?.template.metadata?.labels?.['jobset.sigs.k8s.io/jobset-name']).toBe(
      'long',
    );
  });
});
