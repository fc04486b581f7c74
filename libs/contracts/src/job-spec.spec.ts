import { describe, expect, it } from '@jest/globals';

import {
  globPattern,
  gpuCount,
  gpuTypeOf,
  jobSpecSchema,
  retryPolicySchema,
  tpuTopologyChips,
} from './job-spec.js';

describe('retryPolicySchema (API form)', () => {
  it('fills defaults: one attempt, exponential backoff', () => {
    expect(retryPolicySchema.parse({})).toEqual({
      max_attempts: 1,
      backoff: { initial_seconds: 10, factor: 2, max_seconds: 600 },
    });
  });

  it('accepts a full policy', () => {
    const policy = {
      max_attempts: 3,
      on_exit_codes: [137],
      on_reasons: ['OOMKilled', 'Evicted'],
      backoff: { initial_seconds: 5, factor: 3, max_seconds: 60 },
    };
    expect(retryPolicySchema.parse(policy)).toEqual(policy);
  });

  it.each([
    ['max_attempts 0', { max_attempts: 0 }],
    ['fractional attempts', { max_attempts: 1.5 }],
    ['unknown reason (typo)', { on_reasons: ['OOMkilled'] }],
    ['exit code out of range', { on_exit_codes: [256] }],
    ['empty filter list', { on_exit_codes: [] }],
    ['shrinking backoff', { backoff: { initial_seconds: 1, factor: 0.5, max_seconds: 10 } }],
    ['max below initial', { backoff: { initial_seconds: 60, factor: 2, max_seconds: 10 } }],
    ['unknown field', { max_attempt: 3 }],
  ])('rejects %s', (_name, input) => {
    expect(retryPolicySchema.safeParse(input).success).toBe(false);
  });
});

describe('jobSpecSchema', () => {
  it('applies the ROAM job API defaults', () => {
    expect(jobSpecSchema.parse({ image: 'busybox', command: ['true'] })).toEqual({
      image: 'busybox',
      command: ['true'],
      resources: { cpu: '100m', memory: '128Mi', gpu: 0 },
      queue: 'user-queue',
      priority: 0,
      ttl_seconds_after_finished: 120,
      offload: 'never',
    });
  });

  it.each<[string, unknown]>([
    ['no command', { image: 'x' }],
    ['string command', { image: 'x', command: 'echo' }],
    ['bad quantity', { image: 'x', command: ['x'], resources: { cpu: '1 core' } }],
    ['bad label key', { image: 'x', command: ['x'], labels: { 'bad key': 'v' } }],
    ['bad name', { image: 'x', command: ['x'], name: 'Not_A_Label' }],
    ['bad offload', { image: 'x', command: ['x'], offload: 'sometimes' }],
    ...[
      'runpod.io/managed',
      'runpod.io/offload',
      'container.apparmor.security.beta.kubernetes.io/main',
      'seccomp.security.alpha.kubernetes.io/pod',
      'cluster-autoscaler.kubernetes.io/safe-to-evict',
      'roam.dev/job-name',
      'sidecar.istio.io/inject',
    ].map((key): [string, unknown] => [
      `annotation ${key}`,
      { image: 'x', command: ['x'], annotations: { [key]: 'v' } },
    ]),
    ...[
      'roam.dev/tenant',
      'sim.roam.dev/pool',
      'app.kubernetes.io/managed-by',
      'kueue.x-k8s.io/queue-name',
      'kubernetes.io/hostname',
    ].map((key): [string, unknown] => [
      `label ${key}`,
      { image: 'x', command: ['x'], labels: { [key]: 'v' } },
    ]),
  ])('rejects %s', (_name, input) => {
    expect(jobSpecSchema.safeParse(input).success).toBe(false);
  });

  it('accepts the annotations and labels a tenant may set', () => {
    const annotations = {
      note: 'x',
      'sim.roam.dev/duration': '1s',
      'runpod.io/required-gpu-memory': '20',
    };
    const labels = { app: 'web', 'example.com/team': 'a', 'app.kubernetes.io/name': 'web' };
    expect(jobSpecSchema.parse({ image: 'x', command: ['x'], annotations, labels })).toMatchObject({
      annotations,
      labels,
    });
  });
});

describe('jobSpecSchema: GPU and TPU flavors', () => {
  const base = { image: 'x', command: ['x'] };
  const parse = (extra: Record<string, unknown>) => jobSpecSchema.parse({ ...base, ...extra });

  it('keeps a typed GPU request and a capacity as given, and reads them with gpuCount/gpuTypeOf', () => {
    const spec = parse({
      resources: { gpu: { count: 2, type: 'nvidia-l4' } },
      capacity: 'spot',
    });
    expect(spec.resources.gpu).toEqual({ count: 2, type: 'nvidia-l4' });
    expect(spec.capacity).toBe('spot');
    expect(gpuCount(spec.resources)).toBe(2);
    expect(gpuTypeOf(spec.resources)).toBe('nvidia-l4');
    // What the API returns is accepted again as it is.
    expect(jobSpecSchema.parse(spec)).toEqual(spec);
  });

  it('a plain GPU count stays a number with no type, and no capacity means any', () => {
    const spec = parse({ resources: { gpu: 3 } });
    expect(spec.resources.gpu).toBe(3);
    expect(gpuCount(spec.resources)).toBe(3);
    expect(gpuTypeOf(spec.resources)).toBeUndefined();
    expect(spec).not.toHaveProperty('capacity');
  });

  it('accepts a TPU slice and counts its chips', () => {
    const spec = parse({ resources: { tpu: { type: 'tpu-v5-lite-podslice', topology: '2x4' } } });
    expect(spec.resources.tpu).toEqual({ type: 'tpu-v5-lite-podslice', topology: '2x4' });
    expect(tpuTopologyChips('2x4')).toBe(8);
    expect(tpuTopologyChips('4x4x4')).toBe(64);
    expect(
      parse({ resources: { tpu: { type: 'tpu-v5p-slice', topology: '16x16x16' } } }),
    ).toBeTruthy();
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a GPU type that is not a label',
      { resources: { gpu: { count: 1, type: 'NVIDIA L4' } } },
      'resources.gpu',
    ],
    [
      'a GPU type over 63 characters',
      { resources: { gpu: { count: 1, type: 'a'.repeat(64) } } },
      'resources.gpu',
    ],
    [
      'a typed GPU count of 0',
      { resources: { gpu: { count: 0, type: 'nvidia-l4' } } },
      'resources.gpu',
    ],
    [
      'a typed GPU count over 64',
      { resources: { gpu: { count: 65, type: 'nvidia-l4' } } },
      'resources.gpu',
    ],
    ['a typed GPU without a type', { resources: { gpu: { count: 1 } } }, 'resources.gpu'],
    [
      'an unknown field beside count and type',
      { resources: { gpu: { count: 1, type: 'nvidia-l4', model: 'x' } } },
      'resources.gpu',
    ],
    ['an unknown capacity', { capacity: 'preemptible' }, 'capacity'],
    [
      'a topology of one side',
      { resources: { tpu: { type: 'tpu-v5-lite-podslice', topology: '8' } } },
      'resources.tpu.topology',
    ],
    [
      'a topology of four sides',
      { resources: { tpu: { type: 'tpu-v5-lite-podslice', topology: '2x2x2x2' } } },
      'resources.tpu.topology',
    ],
    [
      'a topology side of three digits',
      { resources: { tpu: { type: 'tpu-v5-lite-podslice', topology: '2x100' } } },
      'resources.tpu.topology',
    ],
    [
      'a topology of zero chips',
      { resources: { tpu: { type: 'tpu-v5-lite-podslice', topology: '0x4' } } },
      'resources.tpu.topology',
    ],
    [
      'a slice of more chips than the bound',
      { resources: { tpu: { type: 'tpu-v5p-slice', topology: '32x32x32' } } },
      'resources.tpu.topology',
    ],
    [
      'a TPU without a topology',
      { resources: { tpu: { type: 'tpu-v5-lite-podslice' } } },
      'resources.tpu.topology',
    ],
    [
      'GPUs and a TPU slice at once',
      { resources: { gpu: 1, tpu: { type: 'tpu-v5-lite-podslice', topology: '2x4' } } },
      'resources.tpu',
    ],
  ])('rejects %s', (_name, extra, path) => {
    const result = jobSpecSchema.safeParse({ ...base, ...extra });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.')) ?? [];
    expect(paths.filter((p) => p.startsWith(path))).not.toEqual([]);
  });
});

describe('globPattern', () => {
  it.each(['*.xml', 'out/**', '*a'.repeat(16)])('accepts %s', (p) => {
    expect(globPattern.safeParse(p).success).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['x'.repeat(256), 'too long'],
    ['*a'.repeat(17), '17 wildcards'],
  ])('refuses %s (%s)', (p) => {
    expect(globPattern.safeParse(p).success).toBe(false);
  });
});
