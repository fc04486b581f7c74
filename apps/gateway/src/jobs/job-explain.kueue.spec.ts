import { describe, expect, it } from '@jest/globals';
import { type Kube, kubeJobSetName } from '@roam/kube';
import pino from 'pino';

import { KueueExplainer } from './job-explain.kueue.js';
import type { JobRow } from './jobs.repository.js';

const job = {
  id: '01a240aa-c8b2-7000-9ab8-c7c6ee5619f5',
  attempt: 1,
  retryAt: null,
  spec: { queue: 'user-queue' },
} as unknown as JobRow;
const base = { job_id: job.id, status: 'pending', phase: 'Queued' };
const pending = {
  metadata: { name: 'job-roam-x-1-abcde' },
  status: {
    conditions: [
      { type: 'QuotaReserved', status: 'False', reason: 'Pending', message: 'no quota' },
    ],
  },
};

/** A Kube with just the reads the explainer makes. */
const fakeKube = (
  reads: Partial<Record<'get' | 'list' | 'getPath', (...args: unknown[]) => Promise<unknown>>>,
) =>
  ({
    get: reads.get ?? (() => Promise.resolve({ metadata: { uid: 'u-1' } })),
    list: reads.list ?? (() => Promise.resolve({ items: [pending] })),
    getPath: reads.getPath ?? (() => Promise.resolve(undefined)),
  }) as unknown as Kube;

const explainer = (kube: Kube) => new KueueExplainer(kube, pino({ level: 'silent' }));

describe('KueueExplainer', () => {
  it("answers with Kueue's reason, and the position when the visibility API serves it", async () => {
    const withPosition = await explainer(
      fakeKube({
        getPath: () =>
          Promise.resolve({
            items: [
              {
                metadata: { name: pending.metadata.name },
                positionInLocalQueue: 2,
                positionInClusterQueue: 5,
              },
            ],
          }),
      }),
    ).explain(base, job, 'roam-a');
    expect(withPosition).toMatchObject({
      pending: true,
      admission: 'kueue',
      summary: 'Kueue Pending: no quota; number 3 in LocalQueue user-queue',
      kueue: { reason: 'Pending', position_in_local_queue: 2, position_in_cluster_queue: 5 },
    });
    // A cluster without the visibility API: the reason alone.
    const without = await explainer(
      fakeKube({ getPath: () => Promise.reject(new Error('404 page not found')) }),
    ).explain(base, job, 'roam-a');
    expect(without.kueue).toEqual({
      workload: pending.metadata.name,
      local_queue: 'user-queue',
      reason: 'Pending',
      message: 'no quota',
    });
  });

  it("follows a JobSet's Workload for a job with replicated jobs", async () => {
    const reads: unknown[] = [];
    const jobSetJob = {
      ...job,
      spec: { queue: 'user-queue', replicated_jobs: [{ name: 'workers', replicas: 2 }] },
    } as unknown as JobRow;
    const answer = await explainer(
      fakeKube({
        get: (...args: unknown[]) => {
          reads.push(args[0]);
          return Promise.resolve({ metadata: { uid: 'u-2' } });
        },
      }),
    ).explain(base, jobSetJob, 'roam-a');
    expect(reads).toEqual([
      {
        apiVersion: 'jobset.x-k8s.io/v1alpha2',
        kind: 'JobSet',
        name: kubeJobSetName(job.id, 1),
        namespace: 'roam-a',
      },
    ]);
    expect(answer).toMatchObject({ pending: true, kueue: { reason: 'Pending' } });
  });

  it('says so, rather than failing, when Kubernetes cannot be read', async () => {
    const answer = await explainer(
      fakeKube({ get: () => Promise.reject(new Error('connect ECONNREFUSED')) }),
    ).explain(base, job, 'roam-a');
    expect(answer).toMatchObject({ pending: true, admission: 'kueue' });
    expect(answer.summary).toMatch(/cannot be read from Kubernetes/);
  });
});
