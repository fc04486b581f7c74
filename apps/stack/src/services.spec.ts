import { describe, expect, it } from '@jest/globals';

import {
  describeChoice,
  planResultVolumes,
  planServices,
  probesNeeded,
  type PlanInput,
} from './services.js';

const base: Omit<PlanInput, 'env' | 'probes'> = {
  embedded: { postgresPort: 5433, natsPort: 4223, simPort: 6443 },
  simKubeconfigPath: '/state/kubeconfig',
};
const up = { ok: true } as const;
const down = { ok: false, reason: 'connect ECONNREFUSED' } as const;

describe('probesNeeded', () => {
  it('probes only what the environment did not name', () => {
    expect(probesNeeded({})).toEqual({ postgres: true, nats: true });
    expect(probesNeeded({ DATABASE_URL: 'postgresql://x/y' })).toEqual({
      postgres: false,
      nats: true,
    });
    expect(probesNeeded({ NATS_URL: 'nats://n:4222', DATABASE_URL: '' })).toEqual({
      postgres: true,
      nats: false,
    });
  });
});

describe('planServices', () => {
  it('uses the environment first, whatever the probes say', () => {
    const plan = planServices({
      ...base,
      env: { DATABASE_URL: 'postgresql://db/app', NATS_URL: 'nats://n:4222', KUBECONFIG: '/k' },
      probes: { postgres: down, nats: down },
    });
    expect(plan.postgres).toEqual({
      kind: 'env',
      url: 'postgresql://db/app',
      variable: 'DATABASE_URL',
    });
    expect(plan.nats).toEqual({ kind: 'env', url: 'nats://n:4222', variable: 'NATS_URL' });
    expect(plan.kube).toEqual({ kind: 'env', kubeconfigPath: '/k', variable: 'KUBECONFIG' });
  });

  it('uses the local default services when they answer', () => {
    const plan = planServices({ ...base, env: {}, probes: { postgres: up, nats: up } });
    expect(plan.postgres).toEqual({
      kind: 'local',
      url: 'postgresql://postgres@127.0.0.1:5432/roam',
    });
    expect(plan.nats).toEqual({ kind: 'local', url: 'nats://127.0.0.1:4222' });
  });

  it('starts embedded services on their own ports when the defaults do not answer, saying why', () => {
    const plan = planServices({ ...base, env: {}, probes: { postgres: down, nats: down } });
    expect(plan.postgres).toMatchObject({
      kind: 'embedded',
      port: 5433,
      url: 'postgresql://postgres:postgres@127.0.0.1:5433/roam',
    });
    expect(plan.postgres.kind === 'embedded' && plan.postgres.reason).toContain('ECONNREFUSED');
    expect(plan.nats).toMatchObject({ kind: 'embedded', port: 4223, url: 'nats://127.0.0.1:4223' });
  });

  it('mixes: local Postgres, embedded NATS', () => {
    const plan = planServices({ ...base, env: {}, probes: { postgres: up, nats: down } });
    expect(plan.postgres.kind).toBe('local');
    expect(plan.nats.kind).toBe('embedded');
  });

  it('treats an empty variable as unset', () => {
    const plan = planServices({
      ...base,
      env: { DATABASE_URL: '', KUBECONFIG: '' },
      probes: { postgres: up },
    });
    expect(plan.postgres.kind).toBe('local');
    expect(plan.kube.kind).toBe('simulator');
  });

  it('starts the simulator unless a kubeconfig is given, preferring ROAM_KUBECONFIG', () => {
    expect(planServices({ ...base, env: {}, probes: {} }).kube).toEqual({
      kind: 'simulator',
      kubeconfigPath: '/state/kubeconfig',
      port: 6443,
    });
    expect(
      planServices({ ...base, env: { KUBECONFIG: '/a', ROAM_KUBECONFIG: '/b' }, probes: {} }).kube,
    ).toEqual({ kind: 'env', kubeconfigPath: '/b', variable: 'ROAM_KUBECONFIG' });
  });
});

describe('describeChoice', () => {
  it("masks the passwords of the user's services", () => {
    const line = describeChoice('postgres', {
      kind: 'env',
      url: 'postgresql://app:secret@db:5432/roam',
      variable: 'DATABASE_URL',
    });
    expect(line).not.toContain('secret');
    expect(line).toContain('from DATABASE_URL');
  });

  it("shows the embedded server's fixed local password so the URL can be pasted", () => {
    const url = 'postgresql://postgres:postgres@127.0.0.1:5433/roam';
    expect(
      describeChoice('postgres', { kind: 'embedded', port: 5433, url, reason: 'down' }),
    ).toContain(url);
  });
});

describe('planResultVolumes', () => {
  const state = '/state';

  it('is nothing in object-storage mode', () => {
    expect(
      planResultVolumes({ results: 's3', pvcRoot: undefined, kube: 'simulator', stateDir: state }),
    ).toBeUndefined();
  });

  it('with the simulator, keeps claims in the state directory and reads them per tenant', () => {
    expect(
      planResultVolumes({ results: 'pvc', pvcRoot: undefined, kube: 'simulator', stateDir: state }),
    ).toEqual({
      pvcRoot: '/state/volumes/roam-{tenant}/roam-results',
      simVolumesDir: '/state/volumes',
    });
  });

  it('with a real cluster, needs to be told where the volumes are mounted', () => {
    expect(() =>
      planResultVolumes({ results: 'pvc', pvcRoot: undefined, kube: 'env', stateDir: state }),
    ).toThrow(/needs RESULTS_PVC_ROOT/);
    expect(
      planResultVolumes({ results: 'pvc', pvcRoot: '/mnt/roam', kube: 'env', stateDir: state }),
    ).toEqual({ pvcRoot: '/mnt/roam' });
  });
});
