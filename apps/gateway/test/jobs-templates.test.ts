import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { submitJob } from '../../../test/support/jobs-api.js';

describe('/api/v1/templates and submitting from a template', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('jobs_templates');
  });

  afterAll(async () => {
    await h?.close();
  });

  let key: string;
  let otherKey: string;
  const echo = {
    image: 'busybox',
    command: ['sh', '-c', 'echo $A $B'],
    env: { A: '1' },
    resources: { cpu: '500m', memory: '256Mi' },
  };

  beforeAll(async () => {
    key = await register(h.url, 'templater');
    otherKey = await register(h.url, 'templater-b');
  });

  it('creates, lists, reads, replaces and deletes a tenant template', async () => {
    const created = await call(
      h.url,
      'POST',
      '/api/v1/templates',
      { name: 'echo', spec: echo },
      key,
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'echo',
      builtin: false,
      spec: { env: { A: '1' } },
    });
    expect(
      (await call(h.url, 'POST', '/api/v1/templates', { name: 'echo', spec: echo }, key)).status,
    ).toBe(409);

    const list = await call(h.url, 'GET', '/api/v1/templates', undefined, key);
    expect(
      (list.body.items as { name: string; builtin: boolean }[]).map((t) => [t.name, t.builtin]),
    ).toEqual([
      ['echo', false],
      ['sumo', true],
    ]);
    expect((await call(h.url, 'GET', '/api/v1/templates/echo', undefined, otherKey)).status).toBe(
      404,
    );

    const replaced = await call(
      h.url,
      'PUT',
      '/api/v1/templates/echo',
      { spec: { ...echo, env: { A: 'one' } } },
      key,
    );
    expect(replaced.status).toBe(200);
    expect(
      (await call(h.url, 'GET', '/api/v1/templates/echo', undefined, key)).body.spec.env,
    ).toEqual({ A: 'one' });

    expect((await call(h.url, 'DELETE', '/api/v1/templates/echo', undefined, key)).status).toBe(
      204,
    );
    expect((await call(h.url, 'GET', '/api/v1/templates/echo', undefined, key)).status).toBe(404);
    expect((await call(h.url, 'DELETE', '/api/v1/templates/echo', undefined, key)).status).toBe(
      404,
    );
  });

  it('shows the built-in sumo template to every tenant, read-only', async () => {
    for (const k of [key, otherKey]) {
      const sumo = await call(h.url, 'GET', '/api/v1/templates/sumo', undefined, k);
      expect(sumo.status).toBe(200);
      expect(sumo.body).toMatchObject({
        builtin: true,
        spec: {
          image: 'ghcr.io/eclipse-sumo/sumo:latest',
          results: { patterns: ['*.xml', '*.txt', '*.log'] },
          inputs: { required: ['*.sumocfg'] },
        },
      });
      expect(sumo.body.spec.command.join(' ')).toMatch(/sumo -c/);
    }
    expect((await call(h.url, 'PUT', '/api/v1/templates/sumo', { spec: echo }, key)).status).toBe(
      403,
    );
    expect((await call(h.url, 'DELETE', '/api/v1/templates/sumo', undefined, key)).status).toBe(
      403,
    );
    expect(
      (await call(h.url, 'POST', '/api/v1/templates', { name: 'sumo', spec: echo }, key)).status,
    ).toBe(409);
    expect(await h.prisma.jobTemplate.count({ where: { name: 'sumo', tenantId: null } })).toBe(1);
  });

  it('submits from a template, merging the overrides onto it', async () => {
    const created = await call(
      h.url,
      'POST',
      '/api/v1/templates',
      { name: 'echo2', spec: echo },
      key,
    );
    const response = await submitJob(h.url, key, {
      template: 'echo2',
      name: 'from-template',
      env: { B: '2' },
      resources: { cpu: '250m' },
    });
    expect(response.status).toBe(201);
    const job = (await response.json()) as { id: string; spec: Record<string, unknown> };
    expect(job.spec).toMatchObject({
      name: 'from-template',
      image: 'busybox',
      env: { A: '1', B: '2' },
      resources: { cpu: '250m', memory: '256Mi' },
    });
    const row = await h.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.cpuMillis).toBe(250);
    const template = await h.prisma.jobTemplate.findFirstOrThrow({
      where: { tenantId: 'templater', name: created.body.name },
    });
    expect(row.templateId).toBe(template.id);

    const bad = await submitJob(h.url, key, { template: 'echo2', resources: { cpu: 'lots' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/resources\.cpu/);
    const unknown = await submitJob(h.url, key, { template: 'nope' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { detail: string }).detail).toMatch(
      /no template named "nope"/,
    );
  });
});
