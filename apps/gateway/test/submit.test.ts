import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { subjects } from '@roam/contracts';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';

describe('POST /api/v1/jobs → scheduler', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness('gateway_submit', { MAX_BODY_BYTES: '4096' });
    key = await register(h.url, 'submitter');
  });

  afterAll(async () => {
    await h?.close();
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${h.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body,
    });

  it('records the job and its history in one go, and the scheduler sees the command', async () => {
    const response = await post(
      JSON.stringify({
        image: 'busybox',
        command: ['echo', 'hi'],
        resources: { cpu: '250m', memory: '64Mi' },
      }),
    );
    expect(response.status).toBe(201);
    const job = (await response.json()) as {
      id: string;
      status: string;
      tenant_id: string;
      spec: { queue: string };
    };
    expect(job).toMatchObject({
      status: 'pending',
      tenant_id: 'submitter',
      spec: { queue: 'user-queue' },
    });

    const row = await h.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.cpuMillis).toBe(250);
    expect(row.memoryBytes).toBe(64n * 1024n * 1024n);
    // The submit wrote exactly one history row; the scheduler may already have added its own.
    expect(await h.prisma.jobHistory.count({ where: { jobId: job.id, phase: 'Submitted' } })).toBe(
      1,
    );
    expect(
      await h.prisma.outboxMessage.count({
        where: { subject: subjects.job.submit, id: job.id },
      }),
    ).toBe(1);

    // The command wakes admission, which decides over the job.
    const decided = await eventually('the scheduler to decide over the job', async () => {
      const current = await h.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
      return current.phase === 'Submitted' ? undefined : current.phase;
    });
    expect(['Admitted', 'Queued', 'Running', 'Succeeded']).toContain(decided);
  });

  it('answers a bad body with 400 problem+json naming the field, and writes nothing', async () => {
    const before = await h.prisma.job.count();
    const response = await post(
      JSON.stringify({ image: '', command: ['x'], resources: { cpu: 'lots' } }),
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as {
      type: string;
      errors: { path: string }[];
      detail: string;
    };
    expect(problem.type).toBe('https://roam.dev/problems/validation-error');
    expect(problem.errors.map((error) => error.path).sort()).toEqual(['image', 'resources.cpu']);
    expect(await h.prisma.job.count()).toBe(before);
  });

  it('refuses a NUL character in any string with 400, writing nothing; an escaped backslash is text', async () => {
    const before = await h.prisma.job.count();
    const job = { image: 'busybox', resources: { cpu: '100m', memory: '64Mi' } };
    const response = await post(JSON.stringify({ ...job, command: ['echo', 'a\u0000b'] }));
    expect(response.status).toBe(400);
    expect((await response.json()) as { type: string; detail: string }).toMatchObject({
      type: 'https://roam.dev/problems/malformed-request',
      detail: expect.stringContaining('NUL character'),
    });
    expect(await h.prisma.job.count()).toBe(before);

    // Half of a surrogate pair, which jsonb refuses; a whole pair is a character like any other.
    const lone = await post(`{"image":"busybox","command":["echo","\\ud800"]}`);
    expect([lone.status, ((await lone.json()) as { detail: string }).detail]).toEqual([
      400,
      expect.stringContaining('surrogate'),
    ]);
    // A body in another charset than UTF-8, which these checks could not read.
    const utf16 = await post(JSON.stringify({ ...job, command: ['echo', 'a\u0000b'] }), {
      'content-type': 'application/json; charset=utf-16le',
    });
    expect(utf16.status).toBe(415);
    expect(await h.prisma.job.count()).toBe(before);
    const pair = await post(
      `{"image":"busybox","command":["echo","\\ud83d\\ude00"],"resources":{"cpu":"100m","memory":"64Mi"}}`,
    );
    expect(pair.status).toBe(201);

    // In a query string too (a filter reaching a statement would fail it).
    const listed = await fetch(`${h.url}/api/v1/jobs?queue=a%00b`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(listed.status).toBe(400);
    expect(((await listed.json()) as { detail: string }).detail).toContain('NUL character');

    // `\\u0000` in JSON is a backslash and "u0000": six characters, stored as they are.
    const text = await post(JSON.stringify({ ...job, command: ['echo', '\\u0000'] }));
    expect(text.status).toBe(201);
    expect(((await text.json()) as { spec: { command: string[] } }).spec.command).toEqual([
      'echo',
      '\\u0000',
    ]);
  });

  it('rejects unknown fields by name', async () => {
    const response = await post(
      JSON.stringify({ image: 'busybox', comand: ['x'], command: ['x'] }),
    );
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { detail: string };
    expect(problem.detail).toContain('comand');
  });

  it('answers malformed JSON with 400 and an oversized body with 413', async () => {
    const malformed = await post('{"image": ');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { type: string }).type).toBe(
      'https://roam.dev/problems/malformed-request',
    );

    const huge = await post(JSON.stringify({ image: 'x', command: ['x'.repeat(8000)] }));
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toContain('application/problem+json');
  });

  it('answers an unknown route with a 404 problem, without a stack', async () => {
    const response = await call(h.url, 'GET', '/api/v1/nope', undefined, key);
    expect(response.status).toBe(404);
    expect(JSON.stringify(response.body)).not.toContain(' at ');
    expect(response.body).toMatchObject({
      status: 404,
      type: 'https://roam.dev/problems/not-found',
    });
  });

  it('serves SUMO-K8 health routes without a key', async () => {
    const health = await call(h.url, 'GET', '/health');
    expect(health.body).toMatchObject({
      status: 'healthy',
      checks: { postgres: true, nats: true },
    });
    expect((await call(h.url, 'GET', '/health/live')).status).toBe(200);
    expect((await call(h.url, 'GET', '/health/ready')).status).toBe(200);
    expect((await call(h.url, 'GET', '/ready')).status).toBe(200);
  });
});
