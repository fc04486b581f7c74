// Helpers shared by the gateway's jobs API suites (apps/gateway/test/jobs-*.test.ts).
import { type Job, type JobSpecInput, type JobSubmission, RoamClient } from '@roam/client';
import type { PrismaClient } from '@roam/db';
import { eventually } from '@roam/testing';

/** The typed client for one tenant (or the admin token), as users of the API would call it. */
export const apiClient = (base: string, key: string): RoamClient =>
  new RoamClient({ baseUrl: base, apiKey: key });

/** Long enough that a job the scheduler admits is still running when the test ends. */
export const sleeper = (extra: Partial<JobSpecInput> = {}): JobSpecInput => ({
  image: 'busybox',
  command: ['sleep', '1000000'],
  resources: { cpu: '100m', memory: '64Mi' },
  ...extra,
});

/**
 * `POST /api/v1/jobs` with any body, typed or not; the raw response, for the suites that check
 * what the route answers to malformed input and which headers it sends.
 */
export const submitJob = (
  base: string,
  key: string,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  fetch(`${base}/api/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
  });

/** Submits a job that must be accepted (through the typed client) and returns it. */
export const createJob = (base: string, key: string, body: JobSubmission): Promise<Job> =>
  apiClient(base, key).submitJob(body);

/** Waits until the scheduler has provisioned the tenant (namespace, quota). */
export const tenantReady = (prisma: PrismaClient, tenant: string) =>
  eventually(`tenant ${tenant} to be ready`, async () => {
    const row = await prisma.tenant.findUnique({ where: { id: tenant } });
    return row?.status === 'ready';
  });

/**
 * The `Queued/Preempted` step of whichever of `jobIds` is preempted first, from the ledger's
 * history: a job's current state moves on as its new attempt waits in Kueue, often within one
 * poll, so polling `GET /jobs/{id}` for it races the stack.
 */
export const preemptedStep = (prisma: PrismaClient, jobIds: readonly string[]) =>
  eventually('a job to be preempted', async () => {
    const [step] = await prisma.jobHistory.findMany({
      where: { jobId: { in: [...jobIds] }, reason: 'Preempted' },
    });
    return step ?? false;
  });
