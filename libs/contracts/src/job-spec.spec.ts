import { describe, expect, it } from '@jest/globals';

import { globPattern, jobSpecSchema, retryPolicySchema } from './job-spec.js';

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
