import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';
import { sleeper } from '../../../test/support/jobs-api.js';

/** Reads an SSE response until `until` holds for the events seen, then stops reading. */
async function readEvents(
  response: Response,
  until: (events: { event: string; data: { subject?: string } }[]) => boolean,
): Promise<{ event: string; data: { subject?: string } }[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: { subject?: string } }[] = [];
  let buffer = '';
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
  }
  await reader.cancel();
  return events;
}

describe('job groups', () => {
  let h: Harness;
  let key: string;
  let other: string;

  beforeAll(async () => {
    h = await startHarness('groups');
    key = await register(h.url, 'groups-a');
    other = await register(h.url, 'groups-b');
  });

  afterAll(async () => {
    await h?.close();
  });

  it('lists, summarises, watches and cancels a group; finishing it emits group.finished', async () => {
    const stream = await fetch(`${h.url}/api/v1/events/stream?group=sweep-1&after=0`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(stream.status).toBe(200);

    const batch = await call(
      h.url,
      'POST',
      '/api/v1/jobs:batch',
      { jobs: [1, 2, 3].map((i) => sleeper({ name: `s${i}`, group: 'sweep-1' })) },
      key,
    );
    expect(batch.status).toBe(201);
    const single = await call(
      h.url,
      'POST',
      '/api/v1/jobs',
      sleeper({ name: 's4', group: 'sweep-1' }),
      key,
    );
    expect(single.status).toBe(201);
    expect(single.body.group).toBe('sweep-1');
    const outsider = await call(h.url, 'POST', '/api/v1/jobs', sleeper({ name: 'lone' }), key);
    expect(outsider.body.group).toBeNull();
    // Another tenant's group of the same name is its own.
    expect(
      (
        await call(
          h.url,
          'POST',
          '/api/v1/jobs',
          sleeper({ name: 'theirs', group: 'sweep-1' }),
          other,
        )
      ).status,
    ).toBe(201);

    const listed = await call(h.url, 'GET', '/api/v1/jobs?group=sweep-1', undefined, key);
    expect(listed.status).toBe(200);
    expect((listed.body.items as { name: string }[]).map((j) => j.name).sort()).toEqual([
      's1',
      's2',
      's3',
      's4',
    ]);

    const summary = await call(h.url, 'GET', '/api/v1/groups/sweep-1', undefined, key);
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ name: 'sweep-1', total: 4, done: false, finished: 0 });
    const all = await call(h.url, 'GET', '/api/v1/groups', undefined, key);
    expect(all.body.items.map((g: { name: string }) => g.name)).toEqual(['sweep-1']);

    // One job finishes on its own: the group is not done yet.
    expect(
      (await call(h.url, 'DELETE', `/api/v1/jobs/${single.body.id}`, undefined, key)).status,
    ).toBe(200);
    expect((await call(h.url, 'GET', '/api/v1/groups/sweep-1', undefined, key)).body).toMatchObject(
      { done: false, counts: { cancelled: 1 } },
    );

    const cancelled = await call(h.url, 'DELETE', '/api/v1/groups/sweep-1', undefined, key);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.cancelled).toBe(3);
    expect(cancelled.body.group).toMatchObject({
      total: 4,
      pending: 0,
      running: 0,
      finished: 4,
      done: true,
      counts: { cancelled: 4 },
    });
    expect(cancelled.body.group.finished_at).not.toBeNull();
    // Again: nothing left to cancel.
    const again = await call(h.url, 'DELETE', '/api/v1/groups/sweep-1', undefined, key);
    expect(again.body.cancelled).toBe(0);

    // The other tenant's job of that group name is untouched.
    const theirs = await call(h.url, 'GET', '/api/v1/groups/sweep-1', undefined, other);
    expect(theirs.body).toMatchObject({ total: 1, done: false });
    // The lone job outside the group too.
    expect(
      (await call(h.url, 'GET', `/api/v1/jobs/${outsider.body.id}`, undefined, key)).body.status,
    ).not.toBe('cancelled');

    // The watch sees the group's jobs' events and group.finished, nothing else.
    const events = await readEvents(stream, (seen) =>
      seen.some((e) => e.event === 'group.finished'),
    );
    const finished = events.find((e) => e.event === 'group.finished')!;
    expect(finished.data).toMatchObject({
      subject: 'groups/sweep-1',
      data: { group: 'sweep-1', total: 4, counts: { cancelled: 4 } },
    });
    const jobIds = new Set([
      ...(batch.body.items as { id: string }[]).map((j) => j.id),
      single.body.id as string,
    ]);
    for (const e of events.filter((e) => e.event !== 'group.finished'))
      expect(jobIds.has(e.data.subject!.slice('jobs/'.length))).toBe(true);
    expect(events.filter((e) => e.event === 'job.cancelled')).toHaveLength(4);

    // The paged log filters the same way.
    const log = await call(
      h.url,
      'GET',
      '/api/v1/events?group=sweep-1&type=group.finished',
      undefined,
      key,
    );
    expect(log.body.items).toHaveLength(1);

    // group.finished is published on the bus by the relay (it is written by the database).
    await eventually('group.finished published', async () => {
      const row = await h.prisma.outboxMessage.findFirst({
        where: { subject: 'roam.evt.v1.group.finished' },
      });
      return row?.publishedAt != null;
    });
  });

  it('answers bad input with 400 and other tenants with 404', async () => {
    for (const bad of ['-x', 'a b', 'x'.repeat(64), '']) {
      const response = await call(h.url, 'POST', '/api/v1/jobs', sleeper({ group: bad }), key);
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body.errors)).toMatch(/group/);
    }
    expect((await call(h.url, 'GET', '/api/v1/jobs?group=a%20b', undefined, key)).status).toBe(400);
    expect((await call(h.url, 'GET', '/api/v1/groups/a%20b', undefined, key)).status).toBe(400);
    expect((await call(h.url, 'GET', '/api/v1/groups?limit=0', undefined, key)).status).toBe(400);
    expect((await call(h.url, 'GET', '/api/v1/events?group=%2Fx', undefined, key)).status).toBe(
      400,
    );
    expect((await call(h.url, 'GET', '/api/v1/groups/nope', undefined, key)).status).toBe(404);
    expect((await call(h.url, 'DELETE', '/api/v1/groups/nope', undefined, key)).status).toBe(404);
    // groups-b's only group is sweep-1; a group only groups-b has is a 404 for groups-a.
    await call(h.url, 'POST', '/api/v1/jobs', sleeper({ group: 'b-only' }), other);
    expect((await call(h.url, 'GET', '/api/v1/groups/b-only', undefined, key)).status).toBe(404);
    expect((await call(h.url, 'DELETE', '/api/v1/groups/b-only', undefined, key)).status).toBe(404);
    expect((await call(h.url, 'GET', '/api/v1/groups/b-only', undefined, other)).body.total).toBe(
      1,
    );
  });
});
