// @roam/client against a running gateway, scheduler and reconciler: typed errors, idempotent
// submits, 429 retries, paging, log follow and the event feed.
import { readFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RoamClient, RoamError } from '@roam/client';
import { eventually } from '@roam/testing';

import { type Harness, register, startHarness } from '../support/harness.js';
import { sleeper, tenantReady } from '../support/jobs-api.js';

describe('@roam/client', () => {
  let h: Harness;
  let roam: RoamClient;

  beforeAll(async () => {
    // A small bucket, so a tenant limited to 1 request/s meets a 429 within a few calls.
    h = await startHarness('client', {
      RATE_LIMIT_BURST: '3',
      EVENTS_POLL_INTERVAL_MS: '50',
    });
    const key = await register(h.url, 'client-a', { max_concurrent_jobs: 20 });
    await tenantReady(h.prisma, 'client-a');
    roam = new RoamClient({ baseUrl: h.url, apiKey: key });
  });
  afterAll(() => h.close());

  it('is generated from the document the gateway serves', async () => {
    const committed = JSON.parse(
      await readFile(new URL('../../clients/openapi.json', import.meta.url), 'utf8'),
    );
    const served = await (await fetch(`${h.url}/openapi.json`)).json();
    // `pnpm clients:generate` refreshes clients/openapi.json and both generated clients.
    expect(served).toEqual(committed);
  });

  it('answers a failure with a typed error carrying the problem', async () => {
    const error = (await roam.getJob('0190f0a0-0000-7000-8000-000000000000').then(
      () => undefined,
      (e: unknown) => e,
    )) as RoamError;
    expect(error).toBeInstanceOf(RoamError);
    expect(error.status).toBe(404);
    expect(error.type).toMatch(/not-found/);
    const invalid = await roam.submitJob({ image: '', command: [] }).catch((e: RoamError) => e);
    expect(invalid).toBeInstanceOf(RoamError);
    expect((invalid as RoamError).status).toBe(400);
    expect((invalid as RoamError).problem.errors?.length).toBeGreaterThan(0);
  });

  it('sends an Idempotency-Key on every submit, so a repeated key is one job', async () => {
    const a = await roam.submitJob(sleeper({ name: 'once' }), { idempotencyKey: 'client-once' });
    const b = await roam.submitJob(sleeper({ name: 'once' }), { idempotencyKey: 'client-once' });
    expect(b.id).toBe(a.id);
    const c = await roam.submitJob(sleeper({ name: 'once' }));
    expect(c.id).not.toBe(a.id);
    await roam.cancelJob(a.id);
    await roam.cancelJob(c.id);
  });

  it('pages through every job with an async iterator', async () => {
    const ids = [];
    for (let i = 0; i < 5; i += 1)
      ids.push((await roam.submitJob(sleeper({ labels: { batch: 'paging' } }))).id);
    const seen = [];
    for await (const job of roam.jobs({ labelSelector: 'batch=paging', limit: 2 }))
      seen.push(job.id);
    expect(seen.sort()).toEqual(ids.sort());
    for (const id of ids) await roam.cancelJob(id);
  });

  it('follows a log to the end of the pod', async () => {
    const job = await roam.submitJob({
      image: 'busybox',
      command: ['sh', '-c', 'echo one; echo two'],
      resources: { cpu: '100m', memory: '64Mi' },
    });
    const lines = await eventually('the log to be followable', async () => {
      try {
        const all = [];
        for await (const line of roam.followLogs(job.id)) all.push(line);
        return all;
      } catch (error) {
        if (error instanceof RoamError && error.status === 409) return undefined;
        throw error as Error;
      }
    });
    expect(lines).toEqual(['one', 'two']);
    expect(await roam.logs(job.id)).toBe('one\ntwo\n');
  });

  it('retries a 429 after Retry-After', async () => {
    const key = await register(h.url, 'client-slow', { rate_limit_per_second: 1 });
    await tenantReady(h.prisma, 'client-slow');
    const patient = new RoamClient({ baseUrl: h.url, apiKey: key, retries: 5 });
    const impatient = new RoamClient({ baseUrl: h.url, apiKey: key, retries: 0 });
    const burst = await Promise.allSettled(
      Array.from({ length: 6 }, () => impatient.listJobs({ limit: 1 })),
    );
    expect(
      burst.some((r) => r.status === 'rejected' && (r.reason as RoamError).status === 429),
    ).toBe(true);
    const pages = await Promise.all(Array.from({ length: 4 }, () => patient.listJobs()));
    expect(pages).toHaveLength(4);
  });
});
