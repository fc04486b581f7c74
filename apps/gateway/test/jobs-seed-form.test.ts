import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Harness, register, startHarness } from '../../../test/support/harness.js';

describe('seed POST /jobs (SUMO-K8 form)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('jobs_seed_form');
  });

  afterAll(async () => {
    await h?.close();
  });

  let key: string;

  beforeAll(async () => {
    key = await register(h.url, 'sumo-city');
  });

  const post = (
    body: NonNullable<Parameters<typeof fetch>[1]>['body'],
    headers: Record<string, string> = {},
  ) =>
    fetch(`${h.url}/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, ...headers },
      body,
    });

  const expectSumoJob = async (jobId: string, scenario: string, cpu: string, memory: string) => {
    const row = await h.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(row).toMatchObject({ tenantId: 'sumo-city', status: 'pending' });
    expect(row.spec).toMatchObject({
      image: 'ghcr.io/eclipse-sumo/sumo:latest',
      env: { SCENARIO_ID: scenario },
      resources: { cpu, memory },
    });
    const sumo = await h.prisma.jobTemplate.findFirstOrThrow({
      where: { name: 'sumo', tenantId: null },
    });
    expect(row.templateId).toBe(sumo.id);
  };

  it('accepts a multipart form and answers the seed shape', async () => {
    const form = new FormData();
    form.set('scenario_id', 'zurich_peak');
    form.set('cpu_request', '2');
    form.set('memory_gi', '4');
    const response = await post(form);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({ job_id: expect.any(String), status: 'PENDING' });
    await expectSumoJob(body.job_id as string, 'zurich_peak', '2', '4Gi');
  });

  it('accepts a urlencoded form', async () => {
    const response = await post(
      new URLSearchParams({ scenario_id: 'bern', cpu_request: '1', memory_gi: '2' }),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { job_id: string; status: string };
    expect(body.status).toBe('PENDING');
    await expectSumoJob(body.job_id, 'bern', '1', '2Gi');
  });

  it("accepts the seed's curl -d JSON, sent as a urlencoded form", async () => {
    const response = await post('{"scenario_id": "basel", "cpu_request": 3, "memory_gi": 6}', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { job_id: string };
    await expectSumoJob(body.job_id, 'basel', '3', '6Gi');
  });

  it('drains an uploaded file and says it was not kept', async () => {
    const form = new FormData();
    form.set('scenario_id', 'with-zip');
    form.set('sumo_files', new Blob([new Uint8Array(200_000)]), 'scenario.zip');
    const response = await post(form);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { job_id: string; message: string };
    expect(body.message).toMatch(/"scenario\.zip" was received but not kept/);
    await expectSumoJob(body.job_id, 'with-zip', '1', '2Gi');
  });

  it('answers a form without scenario_id with 400 and creates nothing', async () => {
    const before = await h.prisma.job.count({ where: { tenantId: 'sumo-city' } });
    const response = await post(new URLSearchParams({ cpu_request: '1' }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/scenario_id/);
    expect(await h.prisma.job.count({ where: { tenantId: 'sumo-city' } })).toBe(before);
  });

  it('answers a form field holding a NUL character with 400 and creates nothing', async () => {
    const before = await h.prisma.job.count({ where: { tenantId: 'sumo-city' } });
    const urlencoded = await post(new URLSearchParams({ scenario_id: 'a\u0000b' }));
    const form = new FormData();
    form.set('scenario_id', 'a\u0000b');
    const multipart = await post(form);
    // The seed's JSON sent as a form: the NUL is an escape inside the one field's name.
    const json = await post('{"scenario_id": "a\\u0000b"}', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    for (const response of [urlencoded, multipart, json]) {
      expect(response.status).toBe(400);
      expect(((await response.json()) as { detail: string }).detail).toMatch(/NUL character/);
    }
    expect(await h.prisma.job.count({ where: { tenantId: 'sumo-city' } })).toBe(before);
  });

  it('replays a form resubmitted with the same Idempotency-Key', async () => {
    const form = () => new URLSearchParams({ scenario_id: 'again', cpu_request: '1' });
    const first = await post(form(), { 'idempotency-key': 'form-1' });
    const second = await post(form(), { 'idempotency-key': 'form-1' });
    expect(second.headers.get('idempotency-replayed')).toBe('true');
    expect(await second.json()).toEqual(await first.json());
    const other = await post(new URLSearchParams({ scenario_id: 'other' }), {
      'idempotency-key': 'form-1',
    });
    expect(other.status).toBe(422);
  });
});
