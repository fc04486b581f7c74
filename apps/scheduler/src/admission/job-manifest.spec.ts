import { describe, expect, it } from '@jest/globals';
import { jobSpecSchema } from '@roam/contracts';

import { kubeJobName, kubeJobSetName } from '@roam/kube';

import {
  attemptManifest,
  jobManifest,
  jobSetManifest,
  sliceServiceManifest,
} from './job-manifest.js';

const input = (spec: Record<string, unknown>, attempt = 1) => ({
  id: '01930000-0000-7000-8000-000000000001',
  tenantId: 'city-a',
  namespace: 'roam-city-a',
  name: 'sim',
  attempt,
  spec: jobSpecSchema.parse({ image: 'busybox', command: ['sh', '-c', 'true'], ...spec }),
  defaultMaxDurationSeconds: 86_400,
});

describe('jobManifest', () => {
  it('names the Job from the job id and attempt and labels Job and pod', () => {
    const manifest = jobManifest(input({}, 2));
    expect(manifest.metadata.name).toBe(kubeJobName('01930000-0000-7000-8000-000000000001', 2));
    expect(manifest.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(manifest.metadata.name.length).toBeLessThanOrEqual(63);
    const labels = {
      'app.kubernetes.io/managed-by': 'roam',
      'roam.dev/job-id': '01930000-0000-7000-8000-000000000001',
      'roam.dev/tenant': 'city-a',
      'roam.dev/attempt': '2',
    };
    expect(manifest.metadata.labels).toEqual(labels);
    expect(manifest.spec.template.metadata.labels).toEqual(labels);
  });

  it('in kueue mode creates the Job suspended in its LocalQueue, in the priority class of its priority', () => {
    const manifest = jobManifest({ ...input({ priority: 150 }), kueueQueue: 'user-queue' });
    expect(manifest.spec.suspend).toBe(true);
    expect(manifest.metadata.labels).toMatchObject({
      'kueue.x-k8s.io/queue-name': 'user-queue',
      'kueue.x-k8s.io/priority-class': 'roam-high',
    });
    // Kueue reads the Job's labels; the pods do not carry them.
    expect(manifest.spec.template.metadata.labels).not.toHaveProperty(
      'kueue.x-k8s.io/priority-class',
    );
    expect(
      jobManifest({ ...input({}), kueueQueue: 'user-queue' }).metadata.labels[
        'kueue.x-k8s.io/priority-class'
      ],
    ).toBe('roam-normal');
    expect(jobManifest(input({ priority: -5 })).metadata.labels).not.toHaveProperty(
      'kueue.x-k8s.io/priority-class',
    );
  });

  it('leaves retries to roam and derives the deadline from max_duration_seconds', () => {
    expect(jobManifest(input({})).spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 86_400,
    });
    expect(jobManifest(input({ max_duration_seconds: 60 })).spec.activeDeadlineSeconds).toBe(60);
  });

  it('requests what the spec asks, limits memory, and tolerates the GPU taint only for GPU jobs', () => {
    const cpu = jobManifest(input({ resources: { cpu: '500m', memory: '1Gi' } })).spec.template
      .spec;
    expect(cpu.containers[0]!.resources).toEqual({
      requests: { cpu: '500m', memory: '1Gi' },
      limits: { memory: '1Gi' },
    });
    expect(cpu).not.toHaveProperty('tolerations');
    const gpu = jobManifest(input({ resources: { cpu: '1', memory: '1Gi', gpu: 2 } })).spec.template
      .spec;
    expect(gpu.containers[0]!.resources.limits['nvidia.com/gpu']).toBe('2');
    expect(gpu.tolerations).toEqual([
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
  });

  it('passes env, pod annotations and the attempt to the container', () => {
    const manifest = jobManifest(
      input({ env: { A: '1' }, annotations: { note: 'y', 'sim.roam.dev/duration': '1s' } }, 3),
    );
    expect(manifest.spec.template.spec.containers[0]!.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'ROAM_JOB_ID', value: '01930000-0000-7000-8000-000000000001' },
      { name: 'ROAM_TENANT', value: 'city-a' },
      { name: 'ROAM_ATTEMPT', value: '3' },
      // Working directories (inputs.ts).
      { name: 'ROAM_INPUTS_DIR', value: '/roam/inputs' },
      { name: 'ROAM_RESULTS_DIR', value: '/roam/results' },
    ]);
    expect(manifest.spec.template.metadata.annotations).toEqual({
      note: 'y',
      'sim.roam.dev/duration': '1s',
      'roam.dev/job-name': 'sim',
    });
  });

  it('drops annotations a job may not set, even from a spec that skipped validation', () => {
    const base = input({});
    const spec = {
      ...base.spec,
      annotations: {
        note: 'kept',
        'roam.dev/job-name': 'spoofed',
        'runpod.io/offload': 'true',
        'container.apparmor.security.beta.kubernetes.io/main': 'unconfined',
        'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false',
      },
    };
    const manifest = jobManifest({ ...base, spec });
    expect(manifest.spec.template.metadata.annotations).toEqual({
      note: 'kept',
      'roam.dev/job-name': 'sim',
    });
    expect(manifest.metadata.annotations).toEqual({ 'roam.dev/job-name': 'sim' });
  });

  it('marks offloadable jobs with the RunPod controller annotations', () => {
    expect(jobManifest(input({})).metadata.annotations).not.toHaveProperty('runpod.io/managed');
    expect(jobManifest(input({ offload: 'allowed' })).metadata.annotations).toMatchObject({
      'runpod.io/managed': 'true',
    });
    expect(jobManifest(input({ offload: 'required' })).metadata.annotations).toMatchObject({
      'runpod.io/managed': 'true',
      'runpod.io/offload': 'true',
    });
  });
});

describe('attemptManifest for multi-pod jobs', () => {
  it('makes an indexed Job whose pods read their index from the downward API', () => {
    expect(attemptManifest(input({ parallelism: 3 })).kind).toBe('Job');
    const manifest = jobManifest(input({ parallelism: 3, completions: 6 }));
    expect(manifest.spec).toMatchObject({
      completionMode: 'Indexed',
      parallelism: 3,
      completions: 6,
      backoffLimit: 0,
    });
    const env = manifest.spec.template.spec.containers[0]!.env;
    expect(env).toContainEqual({
      name: 'ROAM_REPLICA_INDEX',
      valueFrom: {
        fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
      },
    });
  });

  it("mounts no Kubernetes API token in a job's pods, single or in a JobSet", () => {
    expect(jobManifest(input({})).spec.template.spec.automountServiceAccountToken).toBe(false);
    const jobSet = jobSetManifest(
      input({
        replicated_jobs: [
          { name: 'driver', replicas: 1 },
          { name: 'worker', replicas: 2 },
        ],
      }),
    );
    expect(
      jobSet.spec.replicatedJobs.map(
        (r) => r.template.spec.template.spec.automountServiceAccountToken,
      ),
    ).toEqual([false, false]);
  });

  it('makes a JobSet named from the job id and attempt, with its policies and groups', () => {
    const manifest = jobSetManifest(
      input(
        {
          resources: { cpu: '1', memory: '1Gi' },
          replicated_jobs: [
            { name: 'driver', replicas: 1 },
            {
              name: 'worker',
              replicas: 4,
              parallelism: 2,
              image: 'trainer',
              resources: { cpu: '2', memory: '4Gi', gpu: 1 },
            },
          ],
          success_policy: { operator: 'any', target_replicated_jobs: ['driver'] },
          failure_policy: { max_restarts: 3 },
        },
        2,
      ),
    );
    expect(manifest.apiVersion).toBe('jobset.x-k8s.io/v1alpha2');
    expect(manifest.metadata.name).toBe(kubeJobSetName('01930000-0000-7000-8000-000000000001', 2));
    expect(manifest.metadata.labels).toMatchObject({ 'roam.dev/attempt': '2' });
    expect(manifest.spec.successPolicy).toEqual({
      operator: 'Any',
      targetReplicatedJobs: ['driver'],
    });
    expect(manifest.spec.failurePolicy).toEqual({ maxRestarts: 3 });
    const [driver, worker] = manifest.spec.replicatedJobs;
    expect(driver!.template.spec.template.spec.containers[0]!.image).toBe('busybox');
    expect(worker).toMatchObject({ name: 'worker', replicas: 4 });
    expect(worker!.template.spec).toMatchObject({ parallelism: 2, completions: 2 });
    const container = worker!.template.spec.template.spec.containers[0]!;
    expect(container.image).toBe('trainer');
    expect(container.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(container.env).toContainEqual({ name: 'ROAM_REPLICATED_JOB', value: 'worker' });
    // The longest child Job name (`<jobset>-<replicated job>-<index>`) stays a DNS label.
    const longest = `${manifest.metadata.name}-${'w'.repeat(20)}-999`;
    expect(longest.length).toBeLessThanOrEqual(63);
  });

  it("gives each JobSet pod's results sidecar the manifest and the slot it reads its URL by", () => {
    const base = input({
      replicated_jobs: [
        { name: 'driver', replicas: 1 },
        { name: 'worker', replicas: 2 },
      ],
    });
    const manifest = jobSetManifest({
      ...base,
      files: { results: { manifestUrl: 'https://s3/uploads.txt', multiPod: true, image: 'curl' } },
    });
    const worker = manifest.spec.replicatedJobs[1]!.template.spec.template.spec as {
      initContainers?: { name: string; env: unknown[] }[];
    };
    const sidecar = (worker.initContainers ?? []).find((c) => c.name === 'roam-results')!;
    expect(sidecar.env).toEqual(
      expect.arrayContaining([
        { name: 'ROAM_RESULTS_MANIFEST_URL', value: 'https://s3/uploads.txt' },
        { name: 'ROAM_REPLICATED_JOB', value: 'worker' },
        {
          name: 'ROAM_RESULTS_JOB_INDEX',
          valueFrom: {
            fieldRef: { fieldPath: "metadata.annotations['jobset.sigs.k8s.io/job-index']" },
          },
        },
        {
          name: 'ROAM_RESULTS_COMPLETION_INDEX',
          valueFrom: {
            fieldRef: {
              fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']",
            },
          },
        },
      ]),
    );
    expect(sidecar.env).not.toContainEqual(
      expect.objectContaining({ name: 'ROAM_RESULTS_UPLOAD_URL' }),
    );
  });

  it("in PVC mode mounts each pod's own replica folder of the results (subPathExpr), a single pod's and a slice's the job's one folder", () => {
    const id = '01930000-0000-7000-8000-000000000001';
    const files = { claim: 'roam-results' };
    type Spec = {
      containers: {
        env: { name: string }[];
        volumeMounts?: Record<string, unknown>[];
      }[];
    };
    const mountOf = (spec: Spec) =>
      spec.containers[0]!.volumeMounts?.find((m) => m.name === 'roam-results-volume');
    const envNames = (spec: Spec) => spec.containers[0]!.env.map((e) => e.name);

    const indexed = jobManifest({ ...input({ parallelism: 3 }), files }).spec.template.spec as Spec;
    expect(mountOf(indexed)).toEqual({
      name: 'roam-results-volume',
      mountPath: '/roam/results',
      subPathExpr: `results/${id}/$(ROAM_RESULTS_COMPLETION_INDEX)`,
    });
    expect(envNames(indexed)).toContain('ROAM_RESULTS_COMPLETION_INDEX');
    // A tenant's env cannot point every pod at one folder: roam's var replaces one of its name.
    const hostile = jobManifest({
      ...input({ parallelism: 3, env: { ROAM_RESULTS_COMPLETION_INDEX: 'x' } }),
      files,
    }).spec.template.spec as Spec;
    const vars = (hostile.containers[0]!.env as { name: string; value?: string }[]).filter(
      (e) => e.name === 'ROAM_RESULTS_COMPLETION_INDEX',
    );
    expect(vars).toHaveLength(1);
    expect(vars[0]).not.toHaveProperty('value');

    const jobSet = jobSetManifest({
      ...input({
        replicated_jobs: [
          { name: 'driver', replicas: 1 },
          { name: 'worker', replicas: 2, parallelism: 2 },
        ],
      }),
      files,
    });
    const [driver, worker] = jobSet.spec.replicatedJobs.map(
      (rj) => rj.template.spec.template.spec as Spec,
    );
    expect(mountOf(driver!)).toMatchObject({
      subPathExpr: `results/${id}/driver-$(ROAM_RESULTS_JOB_INDEX)`,
    });
    expect(mountOf(worker!)).toMatchObject({
      subPathExpr: `results/${id}/worker-$(ROAM_RESULTS_JOB_INDEX)/$(ROAM_RESULTS_COMPLETION_INDEX)`,
    });
    // Each var the expression reads is in the main container's env, once.
    const names = envNames(worker!);
    for (const name of [
      'ROAM_REPLICATED_JOB',
      'ROAM_RESULTS_JOB_INDEX',
      'ROAM_RESULTS_COMPLETION_INDEX',
    ])
      expect(names.filter((n) => n === name)).toHaveLength(1);

    // A single pod keeps today's layout; a multi-host slice's hosts share the job's folder.
    const single = jobManifest({ ...input({}), files }).spec.template.spec as Spec;
    expect(mountOf(single)).toEqual({
      name: 'roam-results-volume',
      mountPath: '/roam/results',
      subPath: `results/${id}`,
    });
    const slice = jobManifest({
      ...input({
        resources: {
          cpu: '1',
          memory: '1Gi',
          tpu: { type: 'tpu-v5-lite-podslice', topology: '4x4' },
        },
      }),
      slice: { chips: 16, perHost: 4, hosts: 4 },
      files,
    }).spec.template.spec as Spec;
    expect(mountOf(slice)).toMatchObject({ subPath: `results/${id}` });
    expect(mountOf(slice)).not.toHaveProperty('subPathExpr');
  });

  it('keeps a single-pod job a plain Job', () => {
    const manifest = attemptManifest(input({}));
    expect(manifest.kind).toBe('Job');
    expect(manifest.spec).not.toHaveProperty('completionMode');
  });
});

describe('jobManifest: a multi-host TPU slice is an indexed Job of one pod per host', () => {
  const id = '01930000-0000-7000-8000-000000000001';
  const job = kubeJobName(id, 1);
  const tpu = (topology: string) => ({
    resources: { cpu: '1', memory: '1Gi', tpu: { type: 'tpu-v5-lite-podslice', topology } },
  });

  it('v5e 4x4 on 4-chip hosts: 4 pods of 4 chips, the worker env and the headless Service', () => {
    const manifest = jobManifest({
      ...input(tpu('4x4')),
      slice: { chips: 16, perHost: 4, hosts: 4 },
    });
    expect(manifest.spec).toMatchObject({
      completionMode: 'Indexed',
      parallelism: 4,
      completions: 4,
      backoffLimit: 0,
    });
    const pod = manifest.spec.template.spec;
    expect(pod.subdomain).toBe(job);
    expect(pod.nodeSelector).toEqual({
      'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice',
      'cloud.google.com/gke-tpu-topology': '4x4',
    });
    expect(pod.tolerations).toEqual([
      { key: 'google.com/tpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    const container = pod.containers[0]!;
    expect(container.resources.requests['google.com/tpu']).toBe('4');
    expect(container.resources.limits['google.com/tpu']).toBe('4');
    const env = Object.fromEntries(container.env.map((e) => [e.name, e]));
    const index = {
      valueFrom: {
        fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
      },
    };
    expect(env.ROAM_REPLICA_INDEX).toMatchObject(index);
    expect(env.TPU_WORKER_ID).toMatchObject(index);
    expect(env.TPU_WORKER_HOSTNAMES?.value).toBe(
      [0, 1, 2, 3].map((i) => `${job}-${i}.${job}`).join(','),
    );

    const service = sliceServiceManifest(
      { ...input(tpu('4x4')), slice: { chips: 16, perHost: 4, hosts: 4 } },
      { uid: 'u-1' },
    );
    expect(service).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: job,
        namespace: 'roam-city-a',
        labels: manifest.metadata.labels,
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: job, uid: 'u-1', blockOwnerDeletion: true },
        ],
      },
      spec: {
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector: { 'roam.dev/job-id': id, 'roam.dev/attempt': '1' },
      },
    });
  });

  it('a single-host slice stays one pod of every chip, with no Service', () => {
    const i = { ...input(tpu('2x4')), slice: { chips: 8, perHost: 8, hosts: 1 } };
    const manifest = jobManifest(i);
    expect(manifest.spec).not.toHaveProperty('completionMode');
    expect(manifest.spec.template.spec).not.toHaveProperty('subdomain');
    expect(manifest.spec.template.spec.containers[0]!.resources.requests['google.com/tpu']).toBe(
      '8',
    );
    expect(sliceServiceManifest(i, { uid: 'u-1' })).toBeUndefined();
  });
});

describe('jobSetManifest: several multi-host TPU slices, one child Job per slice', () => {
  const id = '01930000-0000-7000-8000-000000000001';
  const js = kubeJobSetName(id, 1);
  const V5E = { type: 'tpu-v5-lite-podslice', topology: '4x4' };
  const slices = (replicas: number) =>
    input({
      resources: { cpu: '1', memory: '1Gi', tpu: V5E },
      // As the gateway stores it: parallelism set to the slice's hosts (settleSlices).
      replicated_jobs: [{ name: 'slice', replicas, parallelism: 4 }],
    });
  const envOf = (manifest: ReturnType<typeof jobSetManifest>) =>
    Object.fromEntries(
      manifest.spec.replicatedJobs[0]!.template.spec.template.spec.containers[0]!.env.map((e) => [
        e.name,
        e,
      ]),
    );
  const annotation = (key: string) => ({
    valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${key}']` } },
  });

  it('2 × v5e 4x4: child Jobs of 4 pods of 4 chips, exclusive pools, the admitted pools, the worker and megascale env', () => {
    const manifest = jobSetManifest({
      ...slices(2),
      slice: { chips: 16, perHost: 4, hosts: 4 },
      admittedPools: ['pool-a', 'pool-b'],
    });
    expect(manifest.metadata.annotations).toMatchObject({
      'alpha.jobset.sigs.k8s.io/exclusive-topology': 'cloud.google.com/gke-nodepool',
    });
    expect(manifest.spec).toMatchObject({ network: { enableDNSHostnames: true } });
    const rj = manifest.spec.replicatedJobs[0]!;
    expect(rj).toMatchObject({
      name: 'slice',
      replicas: 2,
      template: { spec: { completionMode: 'Indexed', parallelism: 4, completions: 4 } },
    });
    const pod = rj.template.spec.template.spec;
    expect(pod.nodeSelector).toEqual({
      'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice',
      'cloud.google.com/gke-tpu-topology': '4x4',
    });
    expect(pod.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                {
                  key: 'cloud.google.com/gke-nodepool',
                  operator: 'In',
                  values: ['pool-a', 'pool-b'],
                },
              ],
            },
          ],
        },
      },
    });
    expect(pod.containers[0]!.resources.requests['google.com/tpu']).toBe('4');
    const env = envOf(manifest);
    const names = pod.containers[0]!.env.map((e) => e.name);
    // The slice id is defined before the host names that refer to it.
    expect(names.indexOf('MEGASCALE_SLICE_ID')).toBeLessThan(names.indexOf('TPU_WORKER_HOSTNAMES'));
    expect(env.MEGASCALE_SLICE_ID).toMatchObject(annotation('jobset.sigs.k8s.io/job-index'));
    expect(env.MEGASCALE_NUM_SLICES).toEqual({ name: 'MEGASCALE_NUM_SLICES', value: '2' });
    expect(env.MEGASCALE_COORDINATOR_ADDRESS?.value).toBe(`${js}-slice-0-0.${js}`);
    expect(env.TPU_WORKER_ID).toMatchObject(annotation('batch.kubernetes.io/job-completion-index'));
    expect(env.TPU_WORKER_HOSTNAMES?.value).toBe(
      [0, 1, 2, 3].map((i) => `${js}-slice-$(MEGASCALE_SLICE_ID)-${i}.${js}`).join(','),
    );
    expect(env.ROAM_REPLICA_INDEX).toMatchObject(annotation('jobset.sigs.k8s.io/job-index'));
  });

  it('one slice: no megascale env, host names of slice 0; on-demand keeps its term, the pools added to it', () => {
    const manifest = jobSetManifest({
      ...slices(1),
      spec: { ...slices(1).spec, capacity: 'on-demand' },
      slice: { chips: 16, perHost: 4, hosts: 4 },
      admittedPools: ['pool-a'],
    });
    const env = envOf(manifest);
    expect(env).not.toHaveProperty('MEGASCALE_NUM_SLICES');
    expect(env.TPU_WORKER_HOSTNAMES?.value).toBe(
      [0, 1, 2, 3].map((i) => `${js}-slice-0-${i}.${js}`).join(','),
    );
    const terms =
      manifest.spec.replicatedJobs[0]!.template.spec.template.spec.affinity?.nodeAffinity
        .requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms).toEqual([
      {
        matchExpressions: [
          { key: 'cloud.google.com/gke-spot', operator: 'NotIn', values: ['true'] },
          { key: 'cloud.google.com/gke-nodepool', operator: 'In', values: ['pool-a'] },
        ],
      },
    ]);
  });

  it('single-host slices in a JobSet stay as they were: no slice env, no exclusive placement', () => {
    const manifest = jobSetManifest({
      ...input({
        resources: { cpu: '1', memory: '1Gi', tpu: { ...V5E, topology: '2x4' } },
        replicated_jobs: [{ name: 'w', replicas: 2 }],
      }),
      slice: { chips: 8, perHost: 8, hosts: 1 },
    });
    expect(manifest.metadata.annotations).not.toHaveProperty(
      'alpha.jobset.sigs.k8s.io/exclusive-topology',
    );
    expect(envOf(manifest)).not.toHaveProperty('TPU_WORKER_HOSTNAMES');
    expect(
      manifest.spec.replicatedJobs[0]!.template.spec.template.spec.containers[0]!.resources
        .requests['google.com/tpu'],
    ).toBe('8');
  });
});
