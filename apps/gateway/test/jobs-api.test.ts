import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@roam/testing';

import { call, type Harness, register, startHarness } from '../../../test/support/harness.js';

/** Long enough that a job the scheduler admits is still running when the test ends. */
const sleeper = (extra: Record<string, unknown> = {}) => ({
  image: 'busybox',
  command: ['sleep', '1000000'],
  resources: { cpu: '100m', memory: '64Mi' },
  ...extra,
});

describe('jobs API: filters, status, explain, idempotency, batch, templates, seed form', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('jobs_api');
  });

  afterAll(async () => {
    await h?.close();
  });

  const submit = (key: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${h.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body: JSON.stringify(body),
    });

  const created = async (key: string, body: unknown): Promise<{ id: string }> => {
    const response = await submit(key, body);
    expect(response.status).toBe(201);
    return (await response.json()) as { id: string };
  };

  const waitReady = (tenant: string) =>
    eventually(`tenant ${tenant} to be ready`, async () => {
      const row = await h.prisma.tenant.findUnique({ where: { id: tenant } });
      return row?.status === 'ready';
    });

  describe('GET /api/v1/jobs filters and pages', () => {
    let key: string;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      key = await register(h.url, 'filters');
      const specs = {
        web: sleeper({ name: 'web', labels: { app: 'web', tier: 'front' } }),
        api: sleeper({ name: 'api', labels: { app: 'api', tier: 'back' } }),
        plain: sleeper({ name: 'plain' }),
        batch: sleeper({ name: 'batch', labels: { tier: 'batch' }, queue: 'q2' }),
        webcanary: sleeper({ name: 'webcanary', labels: { app: 'web', canary: 'true' } }),
      };
      const first = await call(
        h.url,
        'POST',
        '/api/v1/jobs:batch',
        { jobs: Object.values(specs) },
        key,
      );
      expect(first.status).toBe(201);
      Object.keys(specs).forEach((name, i) => {
        ids[name] = first.body.items[i].id as string;
      });
      const late = await call(h.url, 'POST', '/api/v1/jobs', sleeper({ name: 'late' }), key);
      expect(late.status).toBe(201);
      ids.late = late.body.id as string;
      expect(
        (await call(h.url, 'DELETE', `/api/v1/jobs/${ids.plain}`, undefined, key)).status,
      ).toBe(200);
    });

    const names = async (query: string): Promise<string[]> => {
      const response = await call(h.url, 'GET', `/api/v1/jobs?${query}`, undefined, key);
      expect(response.status).toBe(200);
      return (response.body.items as { name: string }[]).map((job) => job.name).sort();
    };

    it.each([
      ['app=web', ['web', 'webcanary']],
      ['app==api', ['api']],
      // != and notin also select jobs without the label, as in Kubernetes.
      ['app!=web', ['api', 'batch', 'late', 'plain']],
      ['tier in (front,back)', ['api', 'web']],
      ['tier notin (front)', ['api', 'batch', 'late', 'plain', 'webcanary']],
      ['tier', ['api', 'batch', 'web']],
      ['!tier', ['late', 'plain', 'webcanary']],
      ['app=web,!canary', ['web']],
      ['app=web, canary=true', ['webcanary']],
    ])('labelSelector %s', async (selector, expected) => {
      expect(await names(`labelSelector=${encodeURIComponent(selector)}`)).toEqual(expected);
    });

    it('filters by status and queue, and combines filters', async () => {
      expect(await names('status=cancelled')).toEqual(['plain']);
      expect(await names('status=CANCELLED,succeeded')).toEqual(['plain']);
      expect(await names('queue=q2')).toEqual(['batch']);
      expect(await names(`queue=user-queue&labelSelector=${encodeURIComponent('app')}`)).toEqual([
        'api',
        'web',
        'webcanary',
      ]);
    });

    it('filters by creation time', async () => {
      const late = await h.prisma.job.findUniqueOrThrow({ where: { id: ids.late } });
      const since = encodeURIComponent(late.createdAt.toISOString());
      expect(await names(`created_since=${since}`)).toEqual(['late']);
      expect(await names(`created_until=${since}`)).toEqual([
        'api',
        'batch',
        'plain',
        'web',
        'webcanary',
      ]);
    });

    it('pages newest first with a keyset cursor, without gaps or repeats', async () => {
      const all = await call(h.url, 'GET', '/api/v1/jobs?limit=100', undefined, key);
      const expected = (all.body.items as { id: string }[]).map((job) => job.id);
      expect(expected).toHaveLength(6);
      expect([...expected].sort().reverse()).toEqual(expected);
      expect(expected[0]).toBe(ids.late);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `limit=4&cursor=${cursor}` : 'limit=4';
        const page = await call(h.url, 'GET', `/api/v1/jobs?${query}`, undefined, key);
        expect(page.status).toBe(200);
        seen.push(...(page.body.items as { id: string }[]).map((job) => job.id));
        cursor = page.body.next_cursor as string | null;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(2);
      expect(seen).toEqual(expected);
    });

    it.each([
      ['labelSelector=app%20in%20web', /labelSelector: invalid label selector: expected "\("/],
      ['labelSelector=-x', /labelSelector: invalid label selector: "-x" is not a valid label key/],
      ['status=sleeping', /status: "sleeping" is not a job status/],
      ['created_since=yesterday', /created_since: must be an ISO 8601/],
      ['cursor=abc', /cursor/],
    ])('answers %s with a 400 naming the parameter', async (query, detail) => {
      const response = await call(h.url, 'GET', `/api/v1/jobs?${query}`, undefined, key);
      expect(response.status).toBe(400);
      expect(response.body.detail).toMatch(detail);
    });
  });

  describe('status, events and explain', () => {
    let key: string;

    beforeAll(async () => {
      key = await register(h.url, 'explainer', { max_concurrent_jobs: 1 });
      await waitReady('explainer');
    });

    it('answers a compact status and the history in order', async () => {
      const job = await created(key, sleeper({ name: 'to-cancel' }));
      const status = await call(h.url, 'GET', `/api/v1/jobs/${job.id}/status`, undefined, key);
      expect(status.status).toBe(200);
      // The scheduler may already be admitting it: the state is pending either way.
      expect(status.body).toMatchObject({ id: job.id, status: 'pending', attempt: 1 });
      expect(Object.keys(status.body).sort()).toEqual([
        'attempt',
        'completed_at',
        'created_at',
        'exit_code',
        'id',
        'message',
        'phase',
        'placement',
        'reason',
        'started_at',
        'status',
      ]);

      await call(h.url, 'DELETE', `/api/v1/jobs/${job.id}`, undefined, key);
      const events = await call(h.url, 'GET', `/api/v1/jobs/${job.id}/events`, undefined, key);
      expect(events.status).toBe(200);
      expect(events.body.job_id).toBe(job.id);
      const items = events.body.items as { seq: number; status: string; phase: string }[];
      // Between these two the scheduler may have recorded an admission; the order is fixed.
      expect(items.map((e) => e.seq)).toEqual(items.map((_, i) => i + 1));
      expect([items[0]?.status, items[0]?.phase]).toEqual(['pending', 'Submitted']);
      expect([items.at(-1)?.status, items.at(-1)?.phase]).toEqual(['cancelled', 'Cancelled']);

      const explained = await call(h.url, 'GET', `/api/v1/jobs/${job.id}/explain`, undefined, key);
      expect(explained.body).toMatchObject({ pending: false, status: 'cancelled' });
      expect(explained.body.summary).toMatch(/not waiting for admission: it is cancelled/);
    });

    it("names the tenant's concurrency limit as what keeps a job waiting", async () => {
      // With a limit of 1, the older job takes the one slot (admitted now or in the next
      // cycle), so the younger one waits for it either way.
      const first = await created(key, sleeper({ name: 'first' }));
      const second = await created(key, sleeper({ name: 'second' }));
      expect(first.id < second.id).toBe(true);
      const explained = await call(
        h.url,
        'GET',
        `/api/v1/jobs/${second.id}/explain`,
        undefined,
        key,
      );
      expect(explained.status).toBe(200);
      expect(explained.body).toMatchObject({
        job_id: second.id,
        pending: true,
        admitted: false,
        reason: 'ConcurrencyLimit',
        blocker: { kind: 'concurrency', limit: 1 },
      });
      expect(explained.body.summary).toMatch(/1 of 1 jobs/);
      expect(explained.body.unblock).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/raise tenant explainer's concurrency limit/),
        ]),
      );
    });

    it("answers another tenant's job with 404 on every sub-resource", async () => {
      const job = await created(key, sleeper());
      const other = await register(h.url, 'snooper');
      for (const sub of ['status', 'events', 'explain']) {
        const response = await call(
          h.url,
          'GET',
          `/api/v1/jobs/${job.id}/${sub}`,
          undefined,
          other,
        );
        expect(response.status).toBe(404);
      }
    });
  });

  describe('Idempotency-Key', () => {
    let key: string;

    beforeAll(async () => {
      key = await register(h.url, 'idem');
    });

    const jobsNamed = (name: string) => h.prisma.job.count({ where: { tenantId: 'idem', name } });

    it('replays the first response for the same key and body', async () => {
      const body = sleeper({ name: 'once' });
      const first = await submit(key, body, { 'idempotency-key': 'k-once' });
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotency-replayed')).toBeNull();
      const created = await first.json();
      // Same body with its keys in another order is the same request.
      const again = await submit(key, Object.fromEntries(Object.entries(body).reverse()), {
        'idempotency-key': 'k-once',
      });
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotency-replayed')).toBe('true');
      expect(await again.json()).toEqual(created);
      expect(await jobsNamed('once')).toBe(1);
    });

    it('answers the same key with another body with 422 and creates nothing', async () => {
      expect(
        (await submit(key, sleeper({ name: 'k2-a' }), { 'idempotency-key': 'k2' })).status,
      ).toBe(201);
      const other = await submit(key, sleeper({ name: 'k2-b' }), { 'idempotency-key': 'k2' });
      expect(other.status).toBe(422);
      expect(((await other.json()) as { type: string }).type).toBe(
        'https://roam.dev/problems/idempotency-key-reused',
      );
      expect(await jobsNamed('k2-b')).toBe(0);
    });

    it('runs concurrent requests with one key once: the others replay or get 409', async () => {
      const responses = await Promise.all(
        Array.from({ length: 6 }, () =>
          submit(key, sleeper({ name: 'racer' }), { 'idempotency-key': 'k-race' }),
        ),
      );
      const statuses = responses.map((response) => response.status);
      expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
      const bodies = (await Promise.all(responses.map((r) => r.json()))) as {
        id?: string;
        type?: string;
      }[];
      const ids = new Set(bodies.filter((b) => b.id).map((b) => b.id));
      expect(ids.size).toBe(1);
      for (const body of bodies.filter((b) => !b.id)) {
        expect(body.type).toBe('https://roam.dev/problems/idempotency-key-in-flight');
      }
      expect(await jobsNamed('racer')).toBe(1);
    });

    it('replays a client error too, and keeps keys apart per tenant', async () => {
      const bad = { image: '', command: ['x'] };
      const first = await submit(key, bad, { 'idempotency-key': 'k-bad' });
      expect(first.status).toBe(400);
      const again = await submit(key, bad, { 'idempotency-key': 'k-bad' });
      expect(again.status).toBe(400);
      expect(again.headers.get('idempotency-replayed')).toBe('true');
      expect(again.headers.get('content-type')).toContain('application/problem+json');

      const otherKey = await register(h.url, 'idem-other');
      const mine = await submit(otherKey, sleeper({ name: 'once' }), {
        'idempotency-key': 'k-once',
      });
      expect(mine.status).toBe(201);
      expect(mine.headers.get('idempotency-replayed')).toBeNull();
    });

    it('rejects a malformed key', async () => {
      const response = await submit(key, sleeper(), { 'idempotency-key': 'has space' });
      expect(response.status).toBe(400);
    });
  });

  describe('jobs that can never run', () => {
    let key: string;

    beforeAll(async () => {
      key = await register(h.url, 'bigjobs', { max_cpu: 100, max_memory_gi: 100 });
    });

    it.each([
      [
        'larger than the quota',
        { cpu: '200', memory: '1Gi' },
        'quota',
        /whole cpu quota is 100 CPU/,
      ],
      ['larger than any node', { cpu: '40', memory: '1Gi' }, 'node', /largest node .* has 16 CPU/],
    ])('answers a job %s with 422 and the reason', async (_name, resources, kind, message) => {
      const before = await h.prisma.job.count({ where: { tenantId: 'bigjobs' } });
      const response = await submit(key, sleeper({ resources }));
      expect(response.status).toBe(422);
      const problem = (await response.json()) as {
        type: string;
        reasons: { kind: string; message: string }[];
      };
      expect(problem.type).toBe('https://roam.dev/problems/unschedulable');
      expect(problem.reasons).toEqual(
        expect.arrayContaining([{ kind, message: expect.stringMatching(message) }]),
      );
      expect(await h.prisma.job.count({ where: { tenantId: 'bigjobs' } })).toBe(before);
    });

    it('accepts a job larger than any node when RunPod may take it, but never one over the quota', async () => {
      const offloadable = await submit(
        key,
        sleeper({ resources: { cpu: '40', memory: '1Gi' }, offload: 'allowed' }),
      );
      expect(offloadable.status).toBe(201);
      const overQuota = await submit(
        key,
        sleeper({ resources: { cpu: '200', memory: '1Gi' }, offload: 'required' }),
      );
      expect(overQuota.status).toBe(422);
    });

    it('accepts a job that fits a node and the quota', async () => {
      expect((await submit(key, sleeper({ resources: { cpu: '16', memory: '1Gi' } }))).status).toBe(
        201,
      );
    });
  });

  describe('POST /api/v1/jobs:batch', () => {
    let key: string;

    beforeAll(async () => {
      key = await register(h.url, 'batcher');
    });

    it('creates 1000 jobs with their history and commands, and the scheduler sees them all', async () => {
      const jobs = Array.from({ length: 1000 }, (_, i) =>
        sleeper({ labels: { index: String(i) }, priority: i % 3 }),
      );
      const response = await call(h.url, 'POST', '/api/v1/jobs:batch', { jobs }, key);
      expect(response.status).toBe(201);
      expect(response.body.count).toBe(1000);
      const ids = (response.body.items as { id: string; status: string }[]).map((item) => item.id);
      expect(new Set(ids).size).toBe(1000);
      expect(response.body.items[0].status).toBe('pending');
      expect(await h.prisma.job.count({ where: { tenantId: 'batcher' } })).toBe(1000);
      expect(await h.prisma.jobHistory.count({ where: { tenantId: 'batcher', seq: 1 } })).toBe(
        1000,
      );
      const row = await h.prisma.job.findUniqueOrThrow({ where: { id: ids[7]! } });
      expect(row).toMatchObject({ priority: 1, cpuMillis: 100, labels: { index: '7' } });
      // One command for the batch, one submitted event per job.
      const commands = await h.prisma.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM outbox_messages
        WHERE subject = 'roam.cmd.v1.job.submitBatch' AND envelope->'data'->'jobIds' ? ${ids[7]!}`;
      expect(Number(commands[0]!.n)).toBe(1);
      expect(
        await h.prisma.event.count({
          where: { type: 'roam.evt.v1.job.submitted', tenantId: 'batcher' },
        }),
      ).toBe(1000);
      await eventually(
        'the scheduler to receive every submit command',
        async () =>
          (await h.prisma.job.count({ where: { tenantId: 'batcher', seenAt: { not: null } } })) ===
          1000,
        { timeoutMs: 30_000 },
      );
    });

    it('rejects the whole batch when one item is bad, naming every bad index', async () => {
      const before = await h.prisma.job.count({ where: { tenantId: 'batcher' } });
      const response = await call(
        h.url,
        'POST',
        '/api/v1/jobs:batch',
        {
          jobs: [sleeper(), { image: 'x' }, sleeper(), sleeper({ resources: { cpu: 'lots' } })],
        },
        key,
      );
      expect(response.status).toBe(400);
      expect((response.body.items as { index: number }[]).map((item) => item.index)).toEqual([
        1, 3,
      ]);
      expect(response.body.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: 'jobs.1.command' }),
          expect.objectContaining({ path: 'jobs.3.resources.cpu' }),
        ]),
      );
      expect(await h.prisma.job.count({ where: { tenantId: 'batcher' } })).toBe(before);
    });

    it('rejects an empty batch and one over 1000', async () => {
      expect((await call(h.url, 'POST', '/api/v1/jobs:batch', { jobs: [] }, key)).status).toBe(400);
      const tooMany = Array.from({ length: 1001 }, () => ({ image: 'x', command: ['x'] }));
      expect((await call(h.url, 'POST', '/api/v1/jobs:batch', { jobs: tooMany }, key)).status).toBe(
        400,
      );
    });
  });

  describe('templates', () => {
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
      const response = await submit(key, {
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

      const bad = await submit(key, { template: 'echo2', resources: { cpu: 'lots' } });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { detail: string }).detail).toMatch(/resources\.cpu/);
      const unknown = await submit(key, { template: 'nope' });
      expect(unknown.status).toBe(400);
      expect(((await unknown.json()) as { detail: string }).detail).toMatch(
        /no template named "nope"/,
      );
    });
  });

  describe('seed POST /jobs (SUMO-K8 form)', () => {
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
});
