// Helpers shared by the gateway's jobs API suites (apps/gateway/test/jobs-*.test.ts).
import type { PrismaClient } from '@roam/db';
import { eventually } from '@roam/testing';

/** Long enough that a job the scheduler admits is still running when the test ends. */
export const sleeper = (extra: Record<string, unknown> = {}) => ({
  image: 'busybox',
  command: ['sleep', '1000000'],
  resources: { cpu: '100m', memory: '64Mi' },
  ...extra,
});

/** `POST /api/v1/jobs` with a JSON body; the raw response, for status and header checks. */
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

/** Submits a job that must be accepted (201) and returns it. */
export async function createJob(base: string, key: string, body: unknown): Promise<{ id: string }> {
  const response = await submitJob(base, key, body);
  if (response.status !== 201)
    throw new Error(`submit: expected 201, got ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string };
}

/** Waits until the scheduler has provisioned the tenant (namespace, quota). */
export const tenantReady = (prisma: PrismaClient, tenant: string) =>
  eventually(`tenant ${tenant} to be ready`, async () => {
    const row = await prisma.tenant.findUnique({ where: { id: tenant } });
    return row?.status === 'ready';
  });
