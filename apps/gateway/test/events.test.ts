import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createEnvelope, subjects } from '@roam/contracts';
import { Outbox } from '@roam/messaging';
import { metrics } from '@roam/telemetry';
import { eventually } from '@roam/testing';

import { EventFeed } from '../src/events/event-feed.js';
import { EventsRepository, FEED_START } from '../src/events/events.repository.js';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';

interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
}

/** A minimal SSE reader over fetch: `next(n)` resolves with the next n event frames. */
function openStream(url: string, key: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const frames: SseFrame[] = [];
  const waiters: (() => void)[] = [];
  let answered!: () => void;
  const opened = new Promise<void>((resolve) => (answered = resolve));
  const done = fetch(url, {
    headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  }).then(async (response) => {
    if (response.status !== 200) throw new Error(`stream answered ${response.status}`);
    answered();
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const frame: SseFrame = {};
        for (const line of block.split('\n')) {
          const [field, ...rest] = line.split(': ');
          if (field === 'id' || field === 'event' || field === 'data')
            frame[field] = rest.join(': ');
        }
        if (frame.data !== undefined) {
          frames.push(frame);
          for (const wake of waiters.splice(0)) wake();
        }
      }
    }
  });
  done.catch(() => {});
  // Awaited only by tests that need it; a stream that fails first must not reject unheard.
  const answeredOrDone = Promise.race([opened, done]);
  answeredOrDone.catch(() => {});
  let read = 0;
  return {
    /**
     * Resolves once the stream has answered: a stream without a starting point starts from
     * what was committed when it opened, so a test emits what it expects to see after this.
     */
    opened: answeredOrDone,
    async next(count: number): Promise<SseFrame[]> {
      while (frames.length < read + count)
        await new Promise<void>((resolve) => waiters.push(resolve));
      const out = frames.slice(read, read + count);
      read += count;
      return out;
    },
    close: () => controller.abort(),
  };
}

describe('/api/v1/events', () => {
  let h: Harness;
  let outbox: Outbox;
  let feed: EventFeed;
  let key: string;
  let otherKey: string;

  const emit = (tenantId: string, type: string, seq: number) => {
    const jobId = crypto.randomUUID();
    const envelope = createEnvelope(
      type,
      { jobId, name: `job-${seq}`, status: 'running', phase: 'Running' },
      { source: 'roam/test', tenantId, subject: `jobs/${jobId}`, seq },
    );
    return outbox.transaction(() => Promise.resolve({ result: envelope, messages: [envelope] }));
  };

  let gatewayRepository: () => EventsRepository;

  /**
   * Waits until the feed may read an event: its transaction is below the oldest one still open
   * in the cluster (another suite's open transaction, in any database, holds the feed back).
   */
  const readable = (id: string) =>
    eventually(
      `event ${id} below the feed's horizon`,
      async () => {
        const [row] = await h.prisma.$queryRaw<{ readable: boolean }[]>`
        SELECT xid < pg_snapshot_xmin(pg_current_snapshot()) AS readable
        FROM events WHERE id = ${id}::uuid`;
        return row?.readable === true;
      },
      { timeoutMs: 60_000 },
    );

  beforeAll(async () => {
    h = await startHarness('gateway_events', { EVENTS_POLL_INTERVAL_MS: '50' });
    const gateway = await h.gateway({});
    gatewayRepository = () => gateway.app.get(EventsRepository);
    outbox = gateway.app.get(Outbox);
    feed = gateway.app.get(EventFeed);
    key = await register(h.url, 'watcher');
    otherKey = await register(h.url, 'bystander');
  });

  afterAll(async () => {
    await h?.close();
  });

  it('pages through the caller’s own events by position, with a type filter', async () => {
    const emitted = [];
    let last = '';
    for (let i = 1; i <= 5; i += 1) {
      emitted.push(await emit('watcher', i % 2 ? subjects.job.started : subjects.job.succeeded, i));
      last = (await emit('bystander', subjects.job.started, i)).id;
    }
    // Written one after another: once the last is readable, so are the others.
    await readable(last);
    const first = await call(h.url, 'GET', '/api/v1/events?limit=2', undefined, key);
    expect(first.status).toBe(200);
    expect(first.body.has_more).toBe(true);
    const second = await call(
      h.url,
      'GET',
      `/api/v1/events?limit=100&after=${first.body.next_cursor}`,
      undefined,
      key,
    );
    const all = [...first.body.items, ...second.body.items];
    const mine = all.filter((item) => item.event.source === 'roam/test');
    expect(mine.map((item) => item.event.id)).toEqual(emitted.map((e) => e.id));
    expect(all.every((item) => item.event.tenantId === 'watcher')).toBe(true);
    // The feed reads in commit order, (transaction id, position): another writer's event may
    // take a lower position yet commit later, so only events written one after another are
    // in position order. No event appears twice across the pages.
    const positions = all.map((item) => item.position);
    expect(new Set(positions).size).toBe(positions.length);
    const ours = mine.map((item) => item.position);
    expect([...ours].sort((a, b) => a - b)).toEqual(ours);
    expect(second.body.has_more).toBe(false);

    const succeeded = await call(h.url, 'GET', '/api/v1/events?type=job.succeeded', undefined, key);
    expect(succeeded.body.items.map((item: { event: { id: string } }) => item.event.id)).toEqual([
      emitted[1]!.id,
      emitted[3]!.id,
    ]);
    expect(succeeded.body.items[0].type).toBe('job.succeeded');
    const full = await call(
      h.url,
      'GET',
      `/api/v1/events?type=${subjects.job.succeeded},job.started`,
      undefined,
      key,
    );
    expect(
      full.body.items.filter((i: { event: { source: string } }) => i.event.source === 'roam/test'),
    ).toHaveLength(5);

    const bad = await call(h.url, 'GET', '/api/v1/events?after=abc', undefined, key);
    expect(bad.status).toBe(400);
  });

  it('streams events as SSE and resumes after Last-Event-ID without repeats', async () => {
    const stream = openStream(`${h.url}/api/v1/events/stream?type=job.succeeded`, key);
    await stream.opened;
    const a = await emit('watcher', subjects.job.succeeded, 10);
    await emit('bystander', subjects.job.succeeded, 10);
    await emit('watcher', subjects.job.started, 11);
    const b = await emit('watcher', subjects.job.succeeded, 12);
    const frames = await stream.next(2);
    stream.close();
    expect(frames.map((f) => JSON.parse(f.data!).id)).toEqual([a.id, b.id]);
    expect(frames.map((f) => f.event)).toEqual(['job.succeeded', 'job.succeeded']);

    // Missed while disconnected: c. Resuming after a's id must give b, then c, then live d.
    const c = await emit('watcher', subjects.job.succeeded, 13);
    const resumed = openStream(`${h.url}/api/v1/events/stream?type=job.succeeded`, key, {
      'last-event-id': frames[0]!.id!,
    });
    const replayed = await resumed.next(2);
    expect(replayed.map((f) => JSON.parse(f.data!).id)).toEqual([b.id, c.id]);
    expect(replayed[0]!.id).toBe(frames[1]!.id);
    const d = await emit('watcher', subjects.job.succeeded, 14);
    const [live] = await resumed.next(1);
    expect(JSON.parse(live!.data!).id).toBe(d.id);
    expect(Number(live!.id)).toBeGreaterThan(Number(replayed[1]!.id));
    resumed.close();

    // Another tenant's stream from the same point sees none of these.
    const theirs = openStream(`${h.url}/api/v1/events/stream?after=${frames[0]!.id}`, otherKey);
    const [first] = await theirs.next(1);
    expect(JSON.parse(first!.data!).tenantId).toBe('bystander');
    theirs.close();
  });

  it('never skips an event whose transaction commits after later ones', async () => {
    const idOf = (frame: SseFrame) => (JSON.parse(frame.data!) as { id: string }).id;
    const positionOf = async (id: string) =>
      (await h.prisma.event.findUniqueOrThrow({ where: { id }, select: { position: true } }))
        .position;
    const live = openStream(`${h.url}/api/v1/events/stream`, key);
    await live.opened;
    const before = await emit('watcher', subjects.job.started, 20);
    const [first] = await live.next(1);
    expect(idOf(first!)).toBe(before.id);

    // A transaction writes an event (taking its position) and stays open on its own
    // connection while later events commit.
    const jobId = crypto.randomUUID();
    const late = createEnvelope(
      subjects.job.succeeded,
      { jobId, name: 'late', status: 'succeeded', phase: 'Succeeded' },
      { source: 'roam/test', tenantId: 'watcher', subject: `jobs/${jobId}`, seq: 21 },
    );
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const isWritten = new Promise<void>((resolve) => (written = resolve));
    const holding = h.prisma.$transaction(
      async (tx) => {
        await outbox.write(tx, [late]);
        written();
        await held;
      },
      { timeout: 600_000, maxWait: 10_000 },
    );
    await isWritten;
    const after1 = await emit('watcher', subjects.job.started, 22);
    const after2 = await emit('watcher', subjects.job.started, 23);

    // While it is open, the later events are not given out: no client can hold an id past it.
    await feed.refresh();
    const page = await call(
      h.url,
      'GET',
      `/api/v1/events?after=${await positionOf(before.id)}`,
      undefined,
      key,
    );
    expect(page.body.items).toEqual([]);
    // …and the feed says it is held back.
    await eventually('the feed to report the stall', async () => {
      await feed.refresh();
      const [sample] = (await metrics.eventFeedStalled.get()).values;
      return (sample?.value ?? 0) > 0 ? true : undefined;
    });
    // A subscriber resuming from the last id it could have got waits with the others.
    const resumed = openStream(`${h.url}/api/v1/events/stream`, key, {
      'last-event-id': String(await positionOf(before.id)),
    });

    release();
    await holding;
    const expected = [late.id, after1.id, after2.id];
    expect((await live.next(3)).map(idOf)).toEqual(expected);
    const replayed = await resumed.next(3);
    expect(replayed.map(idOf)).toEqual(expected);
    // The late event has the lowest position of the three, yet the later ones were not
    // handed out before it.
    expect(await positionOf(late.id)).toBeLessThan(await positionOf(after1.id));

    // Resuming from any of those ids gives exactly what followed it, once.
    const fromLate = openStream(`${h.url}/api/v1/events/stream`, key, {
      'last-event-id': replayed[0]!.id!,
    });
    expect((await fromLate.next(2)).map(idOf)).toEqual([after1.id, after2.id]);
    const last = await emit('watcher', subjects.job.started, 24);
    for (const stream of [live, resumed, fromLate]) {
      expect((await stream.next(1)).map(idOf)).toEqual([last.id]);
      stream.close();
    }
    const listed = await call(
      h.url,
      'GET',
      `/api/v1/events?after=${await positionOf(before.id)}`,
      undefined,
      key,
    );
    expect(listed.body.items.map((item: { event: { id: string } }) => item.event.id)).toEqual([
      ...expected,
      last.id,
    ]);
  });

  it('reads in transaction-id order by number, not as text (998 before 1017)', async () => {
    await register(h.url, 'xid-order');
    const repository = gatewayRepository();
    // Two events as transactions 998 and 1017 would have written them: as text, '1017' < '998'.
    const written: bigint[] = [];
    for (const xid of ['1017', '998']) {
      const rows = await h.prisma.$queryRaw<{ position: bigint }[]>`
        INSERT INTO events (id, tenant_id, type, subject, time, envelope, xid)
        VALUES (gen_random_uuid(), 'xid-order', 'roam.evt.v1.job.started', 'jobs/x', now(),
                '{}'::jsonb, ${xid}::xid8)
        RETURNING position`;
      written.push(rows[0]!.position);
    }
    const listed = await repository.list('xid-order', {
      after: FEED_START,
      upto: { xid: 2n ** 62n, position: 2n ** 62n },
      limit: 10,
    });
    const ours = listed.filter((row) => written.includes(row.position));
    expect(ours.map((row) => [row.xid, row.position])).toEqual([
      [998n, written[1]],
      [1017n, written[0]],
    ]);
    // Where a new feed starts: the numerically last transaction, wherever its digits fall. The
    // harness's apps keep writing events, so the answer lies between the newest before and after.
    const newest = async () => {
      const [row] = await h.prisma.$queryRaw<{ newest: string }[]>`
        SELECT max(xid::text::numeric)::text AS newest FROM events
        WHERE xid < pg_snapshot_xmin(pg_current_snapshot())`;
      return BigInt(row!.newest);
    };
    const before = await newest();
    const end = (await repository.end()).xid;
    const after = await newest();
    expect(end).toBeGreaterThanOrEqual(before);
    expect(end).toBeLessThanOrEqual(after);
  });
});
