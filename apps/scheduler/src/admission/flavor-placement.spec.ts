import { describe, expect, it } from '@jest/globals';
import { jobSpecSchema } from '@roam/contracts';

import { jobManifest } from './job-manifest.js';

const podOf = (spec: Record<string, unknown>) =>
  jobManifest({
    id: '01930000-0000-7000-8000-000000000001',
    tenantId: 'city-a',
    namespace: 'roam-city-a',
    name: 'sim',
    attempt: 1,
    spec: jobSpecSchema.parse({ image: 'busybox', command: ['true'], ...spec }),
    defaultMaxDurationSeconds: 86_400,
  }).spec.template.spec;

const GPU_TOLERATION = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };
const ON_DEMAND = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        {
          matchExpressions: [
            { key: 'cloud.google.com/gke-spot', operator: 'NotIn', values: ['true'] },
          ],
        },
      ],
    },
  },
};

describe('jobManifest: the pod is bound where admission counted it', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['no flavor: no selector, no affinity', {}, {}],
    [
      'a GPU type on spot',
      { resources: { gpu: { count: 1, type: 'nvidia-l4' } }, capacity: 'spot' },
      {
        nodeSelector: {
          'cloud.google.com/gke-accelerator': 'nvidia-l4',
          'cloud.google.com/gke-spot': 'true',
        },
        tolerations: [GPU_TOLERATION],
      },
    ],
    [
      'a GPU type on on-demand capacity: an affinity, since a selector cannot say "not spot"',
      { resources: { gpu: { count: 8, type: 'nvidia-h100-80gb' } }, capacity: 'on-demand' },
      {
        nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-h100-80gb' },
        affinity: ON_DEMAND,
        tolerations: [GPU_TOLERATION],
      },
    ],
    ['any capacity: nothing', { capacity: 'any' }, {}],
    [
      'a TPU slice',
      { resources: { tpu: { type: 'tpu-v5-lite-podslice', topology: '2x4' } } },
      {
        nodeSelector: {
          'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice',
          'cloud.google.com/gke-tpu-topology': '2x4',
        },
        tolerations: [{ key: 'google.com/tpu', operator: 'Exists', effect: 'NoSchedule' }],
      },
    ],
  ])('%s', (_name, spec, placement) => {
    const pod = podOf(spec);
    expect({
      nodeSelector: pod.nodeSelector,
      affinity: pod.affinity,
      tolerations: pod.tolerations,
    }).toEqual({
      nodeSelector: undefined,
      affinity: undefined,
      tolerations: undefined,
      ...placement,
    });
  });

  it('requests and limits the GPUs of a typed request and every chip of a single-host slice', () => {
    expect(
      podOf({ resources: { gpu: { count: 2, type: 'nvidia-l4' } } }).containers[0]!.resources,
    ).toMatchObject({ requests: { 'nvidia.com/gpu': '2' }, limits: { 'nvidia.com/gpu': '2' } });
    const tpu = podOf({ resources: { tpu: { type: 'tpu-v5-lite-podslice', topology: '2x4' } } })
      .containers[0]!.resources;
    expect(tpu).toMatchObject({
      requests: { 'google.com/tpu': '8' },
      limits: { 'google.com/tpu': '8' },
    });
    expect(tpu.requests).not.toHaveProperty('nvidia.com/gpu');
  });
});

describe('jobManifest: a prefer-spot job is bound to the capacity admission chose', () => {
  const spec = jobSpecSchema.parse({
    image: 'busybox',
    command: ['true'],
    resources: { gpu: { count: 1, type: 'nvidia-l4' } },
    capacity: 'prefer-spot',
  });
  const pod = (admittedCapacity?: 'spot' | 'on-demand') =>
    jobManifest({
      id: '01930000-0000-7000-8000-000000000001',
      tenantId: 'city-a',
      namespace: 'roam-city-a',
      name: 'sweep',
      attempt: 1,
      spec,
      defaultMaxDurationSeconds: 86_400,
      ...(admittedCapacity ? { admittedCapacity } : {}),
    }).spec.template.spec;

  it('admitted to spot: the spot selector', () => {
    const p = pod('spot');
    expect(p.nodeSelector).toEqual({
      'cloud.google.com/gke-accelerator': 'nvidia-l4',
      'cloud.google.com/gke-spot': 'true',
    });
    expect(p).not.toHaveProperty('affinity');
  });

  it('admitted to on-demand: the "not spot" affinity', () => {
    const p = pod('on-demand');
    expect(p.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    expect(p.affinity).toEqual(ON_DEMAND);
  });

  it('no admitted capacity (Kueue admits it): either capacity', () => {
    const p = pod();
    expect(p.nodeSelector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4' });
    expect(p).not.toHaveProperty('affinity');
  });
});
