import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uuidv7 } from '@roam/domain';
import { eventually } from '@roam/testing';

import { call, type Harness, startHarness } from '../../../test/support/harness.js';
import {
  placeJob,
  podPhase,
  readyTenant,
  reader,
  sseMessages,
  type Pod,
} from '../../../test/support/job-fixtures.js';

/** The simulator's live log followers for a pod's container (its API server side of a follow). */
function simFollowers(h: Harness, pod: Pod): number {
  const logs = (
    h.sim.logs as unknown as {
      logs: Map<string, Map<string, { followers: Set<unknown> }>>;
    }
  ).logs;
  return logs.get(pod.metadata!.uid!)?.get('main')?.followers.size ?? 0;
}

describe('job logs', () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness('logs', { LOGS_FOLLOW_START_WAIT_MS: '300' });
    key = await readyTenant(h, 'logs-a');
  });

  afterAll(async () => {
    await h?.close();
  });

  const get = (path: string, as = key) => call(h.url, 'GET', path, undefined, as);

  describe('a finished pod', () => {
    let id: string;

    beforeAll(async () => {
      const placed = await placeJob(h, 'logs-a', 'echo alpha; echo beta; echo gamma; echo delta');
      id = placed.id;
      await eventually(
        'the pod to succeed',
        async () => (await podPhase(h, placed.pod)) === 'Succeeded',
      );
    });

    it('answers the whole log as text/plain, with where it came from', async () => {
      const response = await get(`/api/v1/jobs/${id}/logs`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/plain');
      expect(response.body).toBe('alpha\nbeta\ngamma\ndelta\n');
      expect(response.headers.get('roam-log-source')).toBe('kubernetes');
      expect(response.headers.get('roam-log-attempt')).toBe('1');
      expect(response.headers.get('roam-log-reason')).toBeNull();
    });

    it('tail keeps the last lines', async () => {
      expect((await get(`/api/v1/jobs/${id}/logs?tail=2`)).body).toBe('gamma\ndelta\n');
      // An empty body reads as undefined through `call`.
      expect((await get(`/api/v1/jobs/${id}/logs?tail=0`)).body).toBeUndefined();
    });

    it('since takes seconds or an RFC3339 instant', async () => {
      expect((await get(`/api/v1/jobs/${id}/logs?since=3600`)).body).toBe(
        'alpha\nbeta\ngamma\ndelta\n',
      );
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      expect((await get(`/api/v1/jobs/${id}/logs?since=${hourAgo}`)).body).toBe(
        'alpha\nbeta\ngamma\ndelta\n',
      );
      const future = new Date(Date.now() + 60_000).toISOString();
      expect((await get(`/api/v1/jobs/${id}/logs?since=${future}`)).body).toBeUndefined();
      const bad = await get(`/api/v1/jobs/${id}/logs?since=yesterday`);
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].path).toBe('since');
    });

    it('timestamps prefixes every line with its RFC3339 time', async () => {
      const lines = ((await get(`/api/v1/jobs/${id}/logs?timestamps=true`)).body as string)
        .trimEnd()
        .split('\n');
      expect(lines.map((line) => line.replace(/^\S+ /, ''))).toEqual([
        'alpha',
        'beta',
        'gamma',
        'delta',
      ]);
      for (const line of lines) {
        const stamp = line.split(' ')[0]!;
        expect(stamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
        expect(Math.abs(Date.parse(stamp) - Date.now())).toBeLessThan(3_600_000);
      }
    });

    it('follow on a finished pod returns the log and ends', async () => {
      const response = await get(`/api/v1/jobs/${id}/logs?follow=true`);
      expect(response.status).toBe(200);
      expect(response.body).toBe('alpha\nbeta\ngamma\ndelta\n');
    });

    it('rejects unknown query parameters and a bad id with 400', async () => {
      expect((await get(`/api/v1/jobs/${id}/logs?tail=-1`)).status).toBe(400);
      expect((await get(`/api/v1/jobs/${id}/logs?color=red`)).status).toBe(400);
      expect((await get(`/api/v1/jobs/not-a-uuid/logs`)).status).toBe(400);
    });
  });

  it('follow streams new lines as they come and ends when the pod ends, with every line', async () => {
    const { id, pod } = await placeJob(
      h,
      'logs-a',
      // 5 s between the first two lines at the simulator's speed (200), so the pod is still
      // running when the follow opens, however busy the machine.
      'echo one; sleep 1000; echo two; sleep 300; echo three',
    );
    await eventually('the first line', async () =>
      (await get(`/api/v1/jobs/${id}/logs`)).body.startsWith('one\n'),
    );
    const response = await fetch(`${h.url}/api/v1/jobs/${id}/logs?follow=true`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(response.headers.get('content-length')).toBeNull();
    const body = reader(response);
    await body.readUntil((text) => text.includes('one\n'));
    expect(await podPhase(h, pod)).toBe('Running');
    expect(await body.readToEnd()).toBe('one\ntwo\nthree\n');
    await eventually('the pod to end', async () => (await podPhase(h, pod)) === 'Succeeded');
  });

  it('the SSE stream sends one data message per line, then an end event', async () => {
    const { id } = await placeJob(
      h,
      'logs-a',
      'echo first; sleep 200; echo "second line"; sleep 200; echo third',
    );
    await eventually(
      'the pod to run',
      async () => (await get(`/api/v1/jobs/${id}/logs`)).body !== '',
    );
    const response = await fetch(`${h.url}/api/v1/jobs/${id}/logs/stream`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const messages = sseMessages(await reader(response).readToEnd());
    expect(messages.slice(0, -1)).toEqual([
      { event: 'message', data: 'first' },
      { event: 'message', data: 'second line' },
      { event: 'message', data: 'third' },
    ]);
    expect(messages.at(-1)!.event).toBe('end');
    expect(JSON.parse(messages.at(-1)!.data)).toEqual(
      expect.objectContaining({ job_id: id, attempt: 1 }),
    );
  });

  it('a client that disconnects from the SSE stream closes the Kubernetes log stream', async () => {
    const { id, pod } = await placeJob(h, 'logs-a', 'echo started; sleep 100000');
    await eventually(
      'the pod to log',
      async () => (await get(`/api/v1/jobs/${id}/logs`)).body === 'started\n',
    );
    const abort = new AbortController();
    const response = await fetch(`${h.url}/api/v1/jobs/${id}/logs/stream`, {
      headers: { authorization: `Bearer ${key}` },
      signal: abort.signal,
    });
    const body = reader(response);
    await body.readUntil((text) => text.includes('data: started'));
    await eventually('the gateway to follow the pod', () => simFollowers(h, pod) === 1);
    abort.abort();
    await eventually('the follow to be closed', () => simFollowers(h, pod) === 0);
    expect(await podPhase(h, pod)).toBe('Running');
  });

  it('reads an earlier attempt with ?attempt=, the latest by default, and 404s a future one', async () => {
    // Attempt 2 starts once attempt 1 has ended, as a retry does: an earlier attempt still
    // running when a later one exists was superseded, and the reconciler deletes its Job as soon
    // as its log is stored, which can be before its pod ends.
    const first = await placeJob(h, 'logs-a', 'echo from-attempt-1');
    await eventually(
      'the first pod to end',
      async () => (await podPhase(h, first.pod)) === 'Succeeded',
    );
    const second = await placeJob(h, 'logs-a', 'echo from-attempt-2', { id: first.id, attempt: 2 });
    await eventually(
      'both pods to end',
      async () =>
        (await podPhase(h, first.pod)) === 'Succeeded' &&
        (await podPhase(h, second.pod)) === 'Succeeded',
    );
    expect((await get(`/api/v1/jobs/${first.id}/logs`)).body).toBe('from-attempt-2\n');
    const older = await get(`/api/v1/jobs/${first.id}/logs?attempt=1`);
    expect(older.body).toBe('from-attempt-1\n');
    expect(older.headers.get('roam-log-attempt')).toBe('1');
    expect((await get(`/api/v1/jobs/${first.id}/logs?attempt=3`)).status).toBe(404);
  });

  describe('a job with no pod yet', () => {
    let id: string;

    beforeAll(async () => {
      id = uuidv7();
      await h.prisma.job.create({
        data: {
          id,
          tenantId: 'logs-a',
          name: 'waiting',
          spec: { image: 'busybox', command: ['true'] },
          cpuMillis: 100,
          memoryBytes: BigInt(2 ** 27),
          // Waiting out a retry backoff: pending, and out of the scheduler's reach for the test.
          retryAt: new Date(Date.now() + 3_600_000),
        },
      });
    });

    it('answers an empty log with Roam-Log-Reason: not-started', async () => {
      const response = await get(`/api/v1/jobs/${id}/logs`);
      expect(response.status).toBe(200);
      expect(response.body).toBeUndefined();
      expect(response.headers.get('roam-log-source')).toBe('none');
      expect(response.headers.get('roam-log-reason')).toBe('not-started');
    });

    it('answers follow and the SSE stream with 409', async () => {
      const follow = await get(`/api/v1/jobs/${id}/logs?follow=true`);
      expect(follow.status).toBe(409);
      expect(follow.body.type).toBe('https://roam.dev/problems/conflict');
      expect(follow.body.job_status).toBe('pending');
      expect((await get(`/api/v1/jobs/${id}/logs/stream`)).status).toBe(409);
    });
  });

  it('a finished job whose pod was deleted answers an empty log saying the pod is gone', async () => {
    const { id, pod } = await placeJob(h, 'logs-a', 'echo soon-gone');
    await eventually('the pod to end', async () => (await podPhase(h, pod)) === 'Succeeded');
    await h.prisma.job.update({
      where: { id },
      data: { status: 'succeeded', phase: 'Succeeded', reason: null, finishedAt: new Date() },
    });
    await h.kube.delete({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: `roam-${id}-1`,
      namespace: 'roam-logs-a',
    });
    await h.kube.delete({
      apiVersion: 'v1',
      kind: 'Pod',
      name: pod.metadata!.name!,
      namespace: 'roam-logs-a',
    });
    await eventually('the pod to be gone', async () => (await podPhase(h, pod)) === undefined);
    const response = await get(`/api/v1/jobs/${id}/logs`);
    expect(response.status).toBe(200);
    expect(response.body).toBeUndefined();
    expect(response.headers.get('roam-log-reason')).toBe('pod-gone');
  });

  it("another tenant's job logs are a 404, on every log route", async () => {
    const other = await readyTenant(h, 'logs-b');
    const { id } = await placeJob(h, 'logs-a', 'echo secret');
    for (const path of [
      `/api/v1/jobs/${id}/logs`,
      `/api/v1/jobs/${id}/logs?follow=true`,
      `/api/v1/jobs/${id}/logs/stream`,
      `/jobs/${id}/logs`,
      `/jobs/${id}/logs/stream`,
    ]) {
      const response = await get(path, other);
      expect([path, response.status]).toEqual([path, 404]);
      expect(JSON.stringify(response.body ?? '')).not.toContain('secret');
    }
    expect((await get(`/api/v1/jobs/${id}/logs`)).status).toBe(200);
    expect((await call(h.url, 'GET', `/api/v1/jobs/${id}/logs`)).status).toBe(401);
  });
});
