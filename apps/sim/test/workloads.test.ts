// Scheduler, kubelet, job/JobSet controllers, admission and garbage collection, driven
// through @kubernetes/client-node against a fast simulator.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  Log,
  PatchStrategy,
  setHeaderOptions,
  type V1Job,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
import type { RunningSimulator } from '../src/index.js';
import { eventually, startTestSimulator, statusBody, statusCode } from './helpers.js';

let sim: RunningSimulator;
let kc: KubeConfig;
let core: CoreV1Api;
let batch: BatchV1Api;

beforeAll(async () => {
  ({ sim, kc } = await startTestSimulator(200));
  core = kc.makeApiClient(CoreV1Api);
  batch = kc.makeApiClient(BatchV1Api);
});

afterAll(async () => {
  await sim.close();
});

async function ns(name: string): Promise<string> {
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

function pod(
  name: string,
  command: string,
  extra: Partial<V1Pod['spec']> = {},
  annotations: Record<string, string> = {},
): V1Pod {
  return {
    metadata: { name, annotations },
    spec: {
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', command] }],
      ...extra,
    },
  };
}

function job(name: string, command: string, spec: Partial<V1Job['spec']> = {}): V1Job {
  return {
    metadata: { name },
    spec: {
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', command] }],
        },
      },
      ...spec,
    },
  };
}

const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const phaseOf = async (namespace: string, name: string) =>
  (await core.readNamespacedPod({ namespace, name })).status?.phase;

describe('kubelet', () => {
  it('runs a pod to Succeeded with logs from echo and sleep', async () => {
    const n = await ns('kl1');
    await core.createNamespacedPod({
      namespace: n,
      body: pod('hello', 'echo start; sleep 5 && echo "two words"; exit 0'),
    });
    await eventually('Succeeded', async () => (await phaseOf(n, 'hello')) === 'Succeeded');
    const p = await core.readNamespacedPod({ namespace: n, name: 'hello' });
    expect(p.spec?.nodeName).toMatch(/^cpu-pool-/);
    expect(p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
    expect(p.status?.containerStatuses?.[0]?.state?.terminated?.reason).toBe('Completed');
    const log = await core.readNamespacedPodLog({ namespace: n, name: 'hello' });
    expect(log).toBe('start\ntwo words\n');
    const tail = await core.readNamespacedPodLog({ namespace: n, name: 'hello', tailLines: 1 });
    expect(tail).toBe('two words\n');
  });

  it('fails a pod with the exit code, OOMKilled and image pull errors from annotations', async () => {
    const n = await ns('kl2');
    await core.createNamespacedPod({ namespace: n, body: pod('exit3', 'false || exit 3') });
    await core.createNamespacedPod({
      namespace: n,
      body: pod('oom', 'python train.py', {}, { 'sim.roam.dev/oom': 'true' }),
    });
    await core.createNamespacedPod({
      namespace: n,
      body: pod('pull', 'true', {}, { 'sim.roam.dev/image-pull-error': 'manifest unknown' }),
    });
    await eventually('exit3 failed', async () => (await phaseOf(n, 'exit3')) === 'Failed');
    expect(
      (await core.readNamespacedPod({ namespace: n, name: 'exit3' })).status?.containerStatuses?.[0]
        ?.state?.terminated?.exitCode,
    ).toBe(3);
    await eventually('oom failed', async () => (await phaseOf(n, 'oom')) === 'Failed');
    const oom = await core.readNamespacedPod({ namespace: n, name: 'oom' });
    expect(oom.status?.containerStatuses?.[0]?.state?.terminated?.reason).toBe('OOMKilled');
    expect(oom.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(137);
    await eventually(
      'ImagePullBackOff',
      async () =>
        (await core.readNamespacedPod({ namespace: n, name: 'pull' })).status
          ?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
    );
    expect(await phaseOf(n, 'pull')).toBe('Pending');
  });

  it('follows logs until the container exits', async () => {
    const n = await ns('kl3');
    await core.createNamespacedPod({
      namespace: n,
      body: pod('follow', 'echo one; sleep 100; echo two; sleep 100; echo three'),
    });
    await eventually('Running', async () => (await phaseOf(n, 'follow')) === 'Running');
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const ended = new Promise<void>((resolve) => out.on('finish', () => resolve()));
    await new Log(kc).log(n, 'follow', 'main', out, { follow: true });
    await ended;
    expect(text).toBe('one\ntwo\nthree\n');
  });

  it('writes files from annotations and redirects, visible per pod and per PVC', async () => {
    const n = await ns('kl4');
    await core.createNamespacedPersistentVolumeClaim({
      namespace: n,
      body: {
        metadata: { name: 'results' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    });
    const body = pod(
      'writer',
      'echo 42 > /results/answer.txt',
      {
        volumes: [{ name: 'r', persistentVolumeClaim: { claimName: 'results' } }],
      },
      { 'sim.roam.dev/files': JSON.stringify({ '/results/meta.json': '{"ok":true}' }) },
    );
    body.spec!.containers[0]!.volumeMounts = [{ name: 'r', mountPath: '/results' }];
    await core.createNamespacedPod({ namespace: n, body });
    await eventually('Succeeded', async () => (await phaseOf(n, 'writer')) === 'Succeeded');
    expect(sim.files.forClaim(n, 'results')).toEqual({
      'answer.txt': '42\n',
      'meta.json': '{"ok":true}',
    });
    const pvc = await core.readNamespacedPersistentVolumeClaim({ namespace: n, name: 'results' });
    expect(pvc.status?.phase).toBe('Bound');
  });
});

describe('scheduler', () => {
  it('places GPU and TPU pods on matching pools and leaves impossible ones Unschedulable', async () => {
    const n = await ns('sch1');
    const gpu = pod('gpu', 'sleep 1000');
    gpu.spec!.containers[0]!.resources = { limits: { 'nvidia.com/gpu': '2' } };
    await core.createNamespacedPod({ namespace: n, body: gpu });
    const tpu = pod('tpu', 'sleep 1000', {
      nodeSelector: { 'cloud.google.com/gke-tpu-topology': '2x2x4' },
      tolerations: [{ key: 'google.com/tpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
    await core.createNamespacedPod({ namespace: n, body: tpu });
    const huge = pod('huge', 'sleep 1');
    huge.spec!.containers[0]!.resources = { requests: { 'nvidia.com/gpu': '64' } };
    await core.createNamespacedPod({ namespace: n, body: huge });
    await eventually('gpu bound', async () =>
      (await core.readNamespacedPod({ namespace: n, name: 'gpu' })).spec?.nodeName?.startsWith(
        'gpu-pool-',
      ),
    );
    await eventually('tpu bound', async () =>
      (await core.readNamespacedPod({ namespace: n, name: 'tpu' })).spec?.nodeName?.startsWith(
        'tpu-pool-',
      ),
    );
    const cond = await eventually('unschedulable', async () =>
      (await core.readNamespacedPod({ namespace: n, name: 'huge' })).status?.conditions?.find(
        (c) => c.type === 'PodScheduled' && c.status === 'False',
      ),
    );
    expect(cond.reason).toBe('Unschedulable');
    expect(cond.message).toContain('Insufficient nvidia.com/gpu');
    const events = await core.listNamespacedEvent({
      namespace: n,
      fieldSelector: 'involvedObject.name=huge',
    });
    expect(events.items.map((e) => e.reason)).toContain('FailedScheduling');
  });

  it('does not schedule onto cordoned nodes, and schedules once uncordoned', async () => {
    const n = await ns('sch2');
    const cpuNodes = sim.cluster.pool('cpu-pool')!.nodes;
    for (const node of cpuNodes)
      await core.patchNode({ name: node, body: { spec: { unschedulable: true } } }, strategic);
    await core.createNamespacedPod({ namespace: n, body: pod('waits', 'sleep 1000') });
    const cond = await eventually('unschedulable', async () =>
      (await core.readNamespacedPod({ namespace: n, name: 'waits' })).status?.conditions?.find(
        (c) => c.type === 'PodScheduled' && c.status === 'False',
      ),
    );
    expect(cond.message).toContain('node(s) were unschedulable');
    await core.patchNode(
      { name: cpuNodes[0]!, body: { spec: { unschedulable: null } } },
      strategic,
    );
    const node = await eventually(
      'bound',
      async () => (await core.readNamespacedPod({ namespace: n, name: 'waits' })).spec?.nodeName,
    );
    expect(node).toBe(cpuNodes[0]);
    for (const name of cpuNodes.slice(1)) sim.cluster.cordon(name, false);
  });

  it('fails the pods of a deleted node and recreates the node when its pool says so', async () => {
    const n = await ns('sch3');
    await core.createNamespacedPod({
      namespace: n,
      body: pod('victim', 'sleep 10000', {
        nodeSelector: { 'kubernetes.io/hostname': 'cpu-pool-2' },
      }),
    });
    await eventually('Running', async () => (await phaseOf(n, 'victim')) === 'Running');
    sim.cluster.setRecreate('cpu-pool', 5);
    await core.deleteNode({ name: 'cpu-pool-2' });
    await eventually('Failed', async () => (await phaseOf(n, 'victim')) === 'Failed');
    expect((await core.readNamespacedPod({ namespace: n, name: 'victim' })).status?.reason).toBe(
      'NodeLost',
    );
    const node = await eventually('recreated', async () => core.readNode({ name: 'cpu-pool-2' }));
    expect(node.metadata?.labels?.['cloud.google.com/gke-nodepool']).toBe('cpu-pool');
  });
});

describe('admission', () => {
  it('rejects pods over a ResourceQuota with 403 and keeps status.used current', async () => {
    const n = await ns('quota1');
    await core.createNamespacedResourceQuota({
      namespace: n,
      body: {
        metadata: { name: 'q' },
        spec: { hard: { 'requests.cpu': '1', pods: '5', 'requests.nvidia.com/gpu': '1' } },
      },
    });
    const p1 = pod('p1', 'sleep 1000');
    p1.spec!.containers[0]!.resources = { requests: { cpu: '600m' } };
    await core.createNamespacedPod({ namespace: n, body: p1 });
    const p2 = pod('p2', 'sleep 1000');
    p2.spec!.containers[0]!.resources = { requests: { cpu: '600m' } };
    const err = await core.createNamespacedPod({ namespace: n, body: p2 }).catch((e: unknown) => e);
    expect(statusCode(err)).toBe(403);
    expect(statusBody(err).reason).toBe('Forbidden');
    expect(statusBody(err).message).toContain('exceeded quota: q');
    const noCpu = await core
      .createNamespacedPod({ namespace: n, body: pod('p3', 'true') })
      .catch((e: unknown) => e);
    expect(statusCode(noCpu)).toBe(403);
    expect(statusBody(noCpu).message).toContain('must specify requests.cpu');
    const q = await eventually('used', async () => {
      const r = await core.readNamespacedResourceQuota({ namespace: n, name: 'q' });
      return r.status?.used?.pods === '1' ? r : undefined;
    });
    expect(q.status?.used?.['requests.cpu']).toBe('600m');
  });

  it('frees the quota a pod held once it has finished', async () => {
    const n = await ns('quota2');
    await core.createNamespacedResourceQuota({
      namespace: n,
      body: { metadata: { name: 'q' }, spec: { hard: { 'requests.cpu': '1' } } },
    });
    const first = pod('first', 'true');
    first.spec!.containers[0]!.resources = { requests: { cpu: '600m' } };
    await core.createNamespacedPod({ namespace: n, body: first });
    await eventually('first succeeded', async () => {
      const p = await core.readNamespacedPod({ namespace: n, name: 'first' });
      return p.status?.phase === 'Succeeded' ? p : undefined;
    });
    // The quota's usage of a stored pod is kept per stored object: the finished pod is a new
    // one, which holds nothing.
    const second = pod('second', 'sleep 1000');
    second.spec!.containers[0]!.resources = { requests: { cpu: '600m' } };
    const created = await core.createNamespacedPod({ namespace: n, body: second });
    expect(created.metadata?.name).toBe('second');
  });

  it('fills container requests and limits from a LimitRange', async () => {
    const n = await ns('lr1');
    await core.createNamespacedLimitRange({
      namespace: n,
      body: {
        metadata: { name: 'lr' },
        spec: {
          limits: [
            {
              type: 'Container',
              _default: { cpu: '500m', memory: '256Mi' },
              defaultRequest: { cpu: '100m', memory: '128Mi' },
            },
          ],
        },
      },
    });
    const created = await core.createNamespacedPod({ namespace: n, body: pod('d', 'true') });
    expect(created.spec?.containers[0]?.resources).toEqual({
      limits: { cpu: '500m', memory: '256Mi' },
      requests: { cpu: '100m', memory: '128Mi' },
    });
  });
});

describe('job controller', () => {
  it('runs a job to Complete with counts, times and labelled owned pods', async () => {
    const n = await ns('job1');
    await batch.createNamespacedJob({
      namespace: n,
      body: job('ok', 'echo hi; sleep 2', { completions: 3, parallelism: 2 }),
    });
    const done = await eventually('Complete', async () => {
      const j = await batch.readNamespacedJob({ namespace: n, name: 'ok' });
      return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')
        ? j
        : undefined;
    });
    expect(done.status?.succeeded).toBe(3);
    expect(done.status?.active).toBe(0);
    expect(done.status?.startTime).toBeTruthy();
    expect(done.status?.completionTime).toBeTruthy();
    const pods = await core.listNamespacedPod({ namespace: n, labelSelector: 'job-name=ok' });
    expect(pods.items).toHaveLength(3);
    for (const p of pods.items) {
      expect(p.metadata?.labels?.['batch.kubernetes.io/job-name']).toBe('ok');
      expect(p.metadata?.labels?.['controller-uid']).toBe(done.metadata?.uid);
      expect(p.metadata?.ownerReferences?.[0]?.uid).toBe(done.metadata?.uid);
    }
  });

  it('fails a job after backoffLimit with BackoffLimitExceeded', async () => {
    const n = await ns('job2');
    await batch.createNamespacedJob({
      namespace: n,
      body: job('bad', 'exit 1', { backoffLimit: 2 }),
    });
    const failed = await eventually('Failed', async () => {
      const j = await batch.readNamespacedJob({ namespace: n, name: 'bad' });
      return j.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True')
        ? j
        : undefined;
    });
    expect(failed.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe(
      'BackoffLimitExceeded',
    );
    expect(failed.status?.failed).toBe(3);
  });

  it('fails a job past activeDeadlineSeconds with DeadlineExceeded', async () => {
    const n = await ns('job3');
    await batch.createNamespacedJob({
      namespace: n,
      body: job('slow', 'sleep 100000', { activeDeadlineSeconds: 30 }),
    });
    const reason = await eventually(
      'Failed',
      async () =>
        (await batch.readNamespacedJob({ namespace: n, name: 'slow' })).status?.conditions?.find(
          (c) => c.type === 'Failed',
        )?.reason,
    );
    expect(reason).toBe('DeadlineExceeded');
    await eventually(
      'pods gone',
      async () =>
        (await core.listNamespacedPod({ namespace: n })).items.every(
          (p) => p.status?.phase === 'Failed' || p.metadata?.deletionTimestamp,
        ) || undefined,
    );
  });

  it('suspends without pods, and deletes a finished job after ttlSecondsAfterFinished', async () => {
    const n = await ns('job4');
    await batch.createNamespacedJob({
      namespace: n,
      body: job('held', 'true', { suspend: true, ttlSecondsAfterFinished: 10 }),
    });
    await eventually('Suspended', async () =>
      (await batch.readNamespacedJob({ namespace: n, name: 'held' })).status?.conditions?.some(
        (c) => c.type === 'Suspended' && c.status === 'True',
      ),
    );
    expect((await core.listNamespacedPod({ namespace: n })).items).toHaveLength(0);
    await batch.patchNamespacedJob(
      { namespace: n, name: 'held', body: { spec: { suspend: false } } },
      merge,
    );
    await eventually('deleted by TTL', async () => {
      const err = await batch.readNamespacedJob({ namespace: n, name: 'held' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      return err !== undefined && statusCode(err) === 404;
    });
  });

  it('garbage-collects pods when the job is deleted (background and foreground)', async () => {
    const n = await ns('gc1');
    await batch.createNamespacedJob({ namespace: n, body: job('bg', 'sleep 100000') });
    await batch.createNamespacedJob({ namespace: n, body: job('fg', 'sleep 100000') });
    await eventually(
      'pods',
      async () => (await core.listNamespacedPod({ namespace: n })).items.length === 2,
    );
    await batch.deleteNamespacedJob({ namespace: n, name: 'bg', propagationPolicy: 'Background' });
    await batch.deleteNamespacedJob({ namespace: n, name: 'fg', propagationPolicy: 'Foreground' });
    await eventually(
      'pods collected',
      async () => (await core.listNamespacedPod({ namespace: n })).items.length === 0,
    );
    await eventually(
      'fg job gone',
      async () => (await batch.listNamespacedJob({ namespace: n })).items.length === 0,
    );
  });

  it('orphans pods with propagationPolicy=Orphan', async () => {
    const n = await ns('gc2');
    await batch.createNamespacedJob({ namespace: n, body: job('or', 'sleep 100000') });
    await eventually(
      'pod',
      async () => (await core.listNamespacedPod({ namespace: n })).items.length === 1,
    );
    await batch.deleteNamespacedJob({ namespace: n, name: 'or', propagationPolicy: 'Orphan' });
    await eventually(
      'job gone',
      async () => (await batch.listNamespacedJob({ namespace: n })).items.length === 0,
    );
    const pods = await core.listNamespacedPod({ namespace: n });
    expect(pods.items).toHaveLength(1);
    expect(pods.items[0]?.metadata?.ownerReferences ?? []).toHaveLength(0);
  });
});

describe('jobset controller', () => {
  it('creates child jobs and restarts the JobSet when the leader pod is deleted', async () => {
    const n = await ns('js1');
    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'jobset.x-k8s.io',
      version: 'v1alpha2',
      namespace: n,
      plural: 'jobsets',
      body: {
        apiVersion: 'jobset.x-k8s.io/v1alpha2',
        kind: 'JobSet',
        metadata: { name: 'train' },
        spec: {
          replicatedJobs: [
            {
              name: 'workers',
              replicas: 2,
              template: {
                spec: {
                  parallelism: 2,
                  completions: 2,
                  backoffLimit: 0,
                  template: {
                    spec: {
                      restartPolicy: 'Never',
                      containers: [{ name: 'w', image: 'jax', command: ['sleep', '100000'] }],
                    },
                  },
                },
              },
            },
          ],
        },
      },
    });
    await eventually(
      '4 running pods',
      async () =>
        (
          await core.listNamespacedPod({
            namespace: n,
            labelSelector: 'jobset.sigs.k8s.io/jobset-name=train',
          })
        ).items.filter((p) => p.status?.phase === 'Running').length === 4,
    );
    const jobs = await batch.listNamespacedJob({ namespace: n });
    expect(jobs.items.map((j) => j.metadata?.name).sort()).toEqual([
      'train-workers-0',
      'train-workers-1',
    ]);
    const leader = (
      await core.listNamespacedPod({
        namespace: n,
        labelSelector: 'jobset.sigs.k8s.io/job-index=0,batch.kubernetes.io/job-completion-index=0',
      })
    ).items[0]!;
    await core.deleteNamespacedPod({ namespace: n, name: leader.metadata!.name! });
    const js = await eventually('restarted', async () => {
      const o = (await custom.getNamespacedCustomObject({
        group: 'jobset.x-k8s.io',
        version: 'v1alpha2',
        namespace: n,
        plural: 'jobsets',
        name: 'train',
      })) as { status?: { restarts?: number } };
      return (o.status?.restarts ?? 0) >= 1 ? o : undefined;
    });
    expect(js.status?.restarts).toBe(1);
    await eventually('new attempt running', async () => {
      const pods = await core.listNamespacedPod({
        namespace: n,
        labelSelector: 'jobset.sigs.k8s.io/restart-attempt=1',
      });
      return pods.items.filter((p) => p.status?.phase === 'Running').length === 4;
    });
    const oldJobs = await batch.listNamespacedJob({
      namespace: n,
      labelSelector: 'jobset.sigs.k8s.io/restart-attempt=0',
    });
    expect(oldJobs.items).toHaveLength(0);
  });
});

describe('JobSet exclusive placement', () => {
  it('puts each child Job in one node pool and no two in the same one; one more than pools waits', async () => {
    const n = await ns('js-exclusive');
    const custom = kc.makeApiClient(CustomObjectsApi);
    // The default world has three pools (cpu, gpu, tpu); the pods tolerate every taint.
    await custom.createNamespacedCustomObject({
      group: 'jobset.x-k8s.io',
      version: 'v1alpha2',
      namespace: n,
      plural: 'jobsets',
      body: {
        apiVersion: 'jobset.x-k8s.io/v1alpha2',
        kind: 'JobSet',
        metadata: {
          name: 'slices',
          annotations: {
            'alpha.jobset.sigs.k8s.io/exclusive-topology': 'cloud.google.com/gke-nodepool',
          },
        },
        spec: {
          replicatedJobs: [
            {
              name: 'slice',
              replicas: 4,
              template: {
                spec: {
                  parallelism: 2,
                  completions: 2,
                  backoffLimit: 0,
                  template: {
                    spec: {
                      restartPolicy: 'Never',
                      tolerations: [{ operator: 'Exists' }],
                      containers: [
                        {
                          name: 'w',
                          image: 'jax',
                          command: ['sleep', '100000'],
                          resources: { requests: { cpu: '100m', memory: '64Mi' } },
                        },
                      ],
                    },
                  },
                },
              },
            },
          ],
        },
      },
    });
    const list = async () =>
      (
        await core.listNamespacedPod({
          namespace: n,
          labelSelector: 'jobset.sigs.k8s.io/jobset-name=slices',
        })
      ).items;
    const pods = await eventually('6 running pods and 2 unschedulable', async () => {
      const items = await list();
      const running = items.filter((p) => p.status?.phase === 'Running');
      const unschedulable = items.filter((p) =>
        (p.status?.conditions ?? []).some(
          (c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable',
        ),
      );
      return running.length === 6 && unschedulable.length === 2 && items;
    });
    const nodes = new Map(
      (await core.listNode()).items.map((node) => [
        node.metadata!.name!,
        node.metadata!.labels!['cloud.google.com/gke-nodepool'],
      ]),
    );
    const poolsByJob = new Map<string, Set<string | undefined>>();
    for (const p of pods.filter((x) => x.spec?.nodeName)) {
      const index = p.metadata!.labels!['jobset.sigs.k8s.io/job-index']!;
      const set = poolsByJob.get(index) ?? new Set();
      set.add(nodes.get(p.spec!.nodeName!));
      poolsByJob.set(index, set);
    }
    expect(poolsByJob.size).toBe(3);
    for (const set of poolsByJob.values()) expect(set.size).toBe(1);
    expect(new Set([...poolsByJob.values()].map((set) => [...set][0])).size).toBe(3);
    const waiting = pods.find((p) => !p.spec?.nodeName);
    expect(waiting?.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toContain(
      "didn't match the JobSet's exclusive topology",
    );
  });
});

describe('pods API', () => {
  it('filters pods by spec.nodeName and status.phase, and watches a selector view change', async () => {
    const n = await ns('papi1');
    const seen: string[] = [];
    const watch = new Watch(kc);
    const list = await core.listNamespacedPod({ namespace: n });
    const ctl = await watch.watch(
      `/api/v1/namespaces/${n}/pods`,
      { resourceVersion: list.metadata?.resourceVersion, fieldSelector: 'status.phase=Running' },
      (type, obj: V1Pod) => seen.push(`${type}:${obj.metadata?.name}:${obj.status?.phase}`),
      () => undefined,
    );
    await core.createNamespacedPod({ namespace: n, body: pod('short', 'sleep 50') });
    await eventually('Succeeded', async () => (await phaseOf(n, 'short')) === 'Succeeded');
    await eventually('watch view', () => seen.length >= 2);
    ctl.abort();
    expect(seen).toEqual(['ADDED:short:Running', 'DELETED:short:Succeeded']);
    const p = await core.readNamespacedPod({ namespace: n, name: 'short' });
    const onNode = await core.listPodForAllNamespaces({
      fieldSelector: `spec.nodeName=${p.spec?.nodeName},metadata.namespace=${n}`,
    });
    expect(onNode.items.map((x) => x.metadata?.name)).toEqual(['short']);
    const running = await core.listNamespacedPod({
      namespace: n,
      fieldSelector: 'status.phase=Running',
    });
    expect(running.items).toHaveLength(0);
  });

  it('evicts a pod, deletes a collection by label and rejects ambiguous log requests', async () => {
    const n = await ns('papi2');
    const two = pod('two', 'sleep 1000');
    two.spec!.containers.push({ name: 'side', image: 'busybox', command: ['sleep', '1000'] });
    await core.createNamespacedPod({ namespace: n, body: two });
    await eventually('Running', async () => (await phaseOf(n, 'two')) === 'Running');
    const ambiguous = await core
      .readNamespacedPodLog({ namespace: n, name: 'two' })
      .catch((e: unknown) => e);
    expect(statusCode(ambiguous)).toBe(400);
    expect(
      await core.readNamespacedPodLog({
        namespace: n,
        name: 'two',
        container: 'side',
        sinceSeconds: 60,
      }),
    ).toBe('');
    await core.createNamespacedPodEviction({
      namespace: n,
      name: 'two',
      body: { metadata: { name: 'two', namespace: n } },
    });
    await eventually(
      'evicted',
      async () => (await core.listNamespacedPod({ namespace: n })).items.length === 0,
    );
    for (const name of ['c1', 'c2', 'keep']) {
      await core.createNamespacedConfigMap({
        namespace: n,
        body: { metadata: { name, labels: { drop: String(name !== 'keep') } } },
      });
    }
    await core.deleteCollectionNamespacedConfigMap({ namespace: n, labelSelector: 'drop=true' });
    expect(
      (await core.listNamespacedConfigMap({ namespace: n })).items.map((c) => c.metadata?.name),
    ).toEqual(['keep']);
  });

  it('tears down a deleted namespace and refuses new objects in it meanwhile', async () => {
    const n = await ns('papi3');
    await batch.createNamespacedJob({ namespace: n, body: job('j', 'sleep 100000') });
    await eventually(
      'pod',
      async () => (await core.listNamespacedPod({ namespace: n })).items.length === 1,
    );
    await core.deleteNamespace({ name: n });
    await eventually(
      'namespace gone',
      async () =>
        statusCode(
          await core.readNamespace({ name: n }).then(
            () => undefined,
            (e: unknown) => e,
          ),
        ) === 404,
    );
    expect([...sim.store.list('pods', n)]).toHaveLength(0);
    expect([...sim.store.list('jobs.batch', n)]).toHaveLength(0);
    const late = await core
      .createNamespacedConfigMap({ namespace: n, body: { metadata: { name: 'late' } } })
      .catch((e: unknown) => e);
    expect(statusCode(late)).toBe(404);
  });
});
