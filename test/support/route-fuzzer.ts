// The route fuzzer: random methods, principals, path parameters, query strings, bodies and
// content types thrown at every route the gateway documents in its OpenAPI document (so a new
// route is fuzzed the day it is added). Shared by the CI suite (a few hundred runs) and
// `pnpm bench:fuzz` (100,000 and more), which use the same property and the same checks.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';

import { startS3rver } from '@roam/object-store';
import { eventually } from '@roam/testing';

import { ADMIN_TOKEN, call, type Harness, register, startHarness } from './harness.js';

/** Who sends a request. `a` and `b` are two tenants that must never see each other. */
export const PRINCIPALS = [
  'none',
  'garbage',
  'wrong-scheme',
  'a',
  'b',
  'admin-token',
  'admin-key',
] as const;
export type Principal = (typeof PRINCIPALS)[number];

export interface Route {
  method: string;
  /** OpenAPI template, e.g. `/api/v1/jobs/{id}/logs`. */
  path: string;
  query: string[];
}

/** What one tenant owns, by the ids that can appear in paths and bodies. */
interface Owned {
  tenant: string;
  jobs: string[];
  webhooks: string[];
  templates: string[];
  keys: string[];
}

export interface FuzzWorld {
  h: Harness;
  routes: Route[];
  keys: Record<Principal, string | undefined>;
  owned: Record<'a' | 'b', Owned>;
}

export interface FuzzSample {
  route: Route;
  principal: Principal;
  status: number;
}

const TENANT = { a: 'fuzz-a', b: 'fuzz-b' } as const;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/**
 * The suite's world with object storage (s3rver), so the results and inputs routes do their
 * real work instead of answering "no storage configured".
 */
export async function startFuzzHarness(name: string): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), `roam-${name}-s3-`));
  const s3 = await startS3rver({ directory: dir });
  const h = await startHarness(name, {
    S3_ENDPOINT: s3.endpoint,
    // A log follow of a job that has not started waits this long before its 409.
    LOGS_FOLLOW_START_WAIT_MS: '100',
    // Every principal shares one address here, so the garbage-key principal would soon get
    // the address's valid keys refused too (a limit the abuse suite covers); the fuzzer is
    // after the routes' own answers.
    AUTH_FAILURES_BURST: '1000000',
    AUTH_FAILURES_PER_MINUTE: '1000000',
  });
  return {
    ...h,
    async close() {
      await h.close();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every documented operation, from the gateway's own OpenAPI document. */
export async function documentedRoutes(url: string): Promise<Route[]> {
  const doc = (await call(url, 'GET', '/openapi.json')).body as {
    paths: Record<string, Partial<Record<string, { parameters?: { in: string; name: string }[] }>>>;
  };
  const routes: Route[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      routes.push({ method: method.toUpperCase(), path, query });
    }
  }
  if (routes.length < 40) throw new Error(`only ${routes.length} routes documented`);
  return routes;
}

/** Registers the two tenants (again, after a fuzzed deletion) and gives each a few objects. */
export async function prepareWorld(h: Harness): Promise<FuzzWorld> {
  const adminKey = await call(h.url, 'POST', '/api/v1/admin/keys', { name: 'fuzz' }, ADMIN_TOKEN);
  if (adminKey.status !== 201) throw new Error(`admin key: ${adminKey.status}`);
  const world: FuzzWorld = {
    h,
    routes: await documentedRoutes(h.url),
    keys: {
      none: undefined,
      garbage: 'sk-garbage',
      'wrong-scheme': undefined,
      a: undefined,
      b: undefined,
      'admin-token': ADMIN_TOKEN,
      'admin-key': (adminKey.body as { api_key: string }).api_key,
    },
    owned: { a: emptyOwned(TENANT.a), b: emptyOwned(TENANT.b) },
  };
  for (const who of ['a', 'b'] as const) await populate(world, who);
  return world;
}

function emptyOwned(tenant: string): Owned {
  return { tenant, jobs: [], webhooks: [], templates: [], keys: [] };
}

async function populate(world: FuzzWorld, who: 'a' | 'b'): Promise<void> {
  const { h } = world;
  const tenant = TENANT[who];
  await eventually(`tenant ${tenant} to be gone or ready`, async () => {
    const row = await h.prisma.tenant.findUnique({ where: { id: tenant } });
    return row === null || row.status === 'ready';
  });
  if (await h.prisma.tenant.findUnique({ where: { id: tenant } })) {
    // Only its key was lost (revoked or regenerated): its objects are still its own.
    world.keys[who] = await issueKey(h, tenant);
    world.owned[who].keys = await keyIds(h, tenant, world.keys[who]);
    return;
  }
  const key = await register(h.url, tenant, { max_concurrent_jobs: 2 });
  world.keys[who] = key;
  await eventually(
    `tenant ${tenant} to be ready`,
    async () => (await h.prisma.tenant.findUnique({ where: { id: tenant } }))?.status === 'ready',
  );
  const owned = emptyOwned(tenant);
  const job = await call(
    h.url,
    'POST',
    '/api/v1/jobs',
    { image: 'busybox', command: ['sh', '-c', 'echo fuzz'], name: `${tenant}-job` },
    key,
  );
  if (job.status !== 201) throw new Error(`job for ${tenant}: ${job.status}`);
  owned.jobs.push((job.body as { id: string }).id);
  const hook = await call(
    h.url,
    'POST',
    '/api/v1/webhooks',
    { url: 'https://93.184.216.34/hook', description: `${tenant}-hook` },
    key,
  );
  if (hook.status !== 201) throw new Error(`webhook for ${tenant}: ${hook.status}`);
  owned.webhooks.push((hook.body as { id: string }).id);
  const template = await call(
    h.url,
    'POST',
    '/api/v1/templates',
    { name: `${tenant}-template`, spec: { image: 'busybox', command: ['true'] } },
    key,
  );
  if (template.status >= 300) throw new Error(`template for ${tenant}: ${template.status}`);
  owned.templates.push(`${tenant}-template`);
  owned.keys = await keyIds(h, tenant, key);
  world.owned[who] = owned;
}

async function keyIds(h: Harness, tenant: string, key: string): Promise<string[]> {
  const keys = await call(h.url, 'GET', `/api/v1/tenants/${tenant}/keys`, undefined, key);
  if (keys.status !== 200) throw new Error(`keys of ${tenant}: ${keys.status}`);
  return (keys.body as { items: { id: string }[] }).items.map((k) => k.id);
}

async function issueKey(h: Harness, tenant: string): Promise<string> {
  const created = await call(
    h.url,
    'POST',
    `/api/v1/tenants/${tenant}/keys`,
    { name: 'fuzz' },
    ADMIN_TOKEN,
  );
  if (created.status !== 201) throw new Error(`key for ${tenant}: ${created.status}`);
  return (created.body as { api_key: string }).api_key;
}

/**
 * After an accepted write: waits for tenant deletions it started to finish (the scheduler's
 * work would otherwise change the counts around the next request), then rebuilds what it took
 * away (a tenant deleted, a key revoked or regenerated), so every run after it still fuzzes two
 * live tenants.
 */
async function settle(world: FuzzWorld): Promise<void> {
  await eventually(
    'tenant deletions to finish',
    async () => (await world.h.prisma.tenant.count({ where: { status: 'deleting' } })) === 0,
  );
  for (const who of ['a', 'b'] as const) {
    const me = await call(world.h.url, 'GET', '/api/v1/tenants/me', undefined, world.keys[who]);
    // Only a key that no longer authenticates needs replacing (a 429 is a rate limit).
    if (me.status !== 401) continue;
    await populate(world, who);
  }
}

/**
 * Everything a rejected request must leave as it was. One round trip: counts of the tables the
 * gateway writes, and the outbox rows it wrote (workers write their own in the background).
 */
async function fingerprint(h: Harness): Promise<string> {
  const rows = await h.prisma.$queryRaw<Record<string, bigint>[]>`
    SELECT (SELECT count(*) FROM tenants) AS tenants,
           (SELECT count(*) FROM jobs) AS jobs,
           (SELECT count(*) FROM api_keys WHERE revoked_at IS NULL) AS keys,
           (SELECT count(*) FROM webhook_endpoints) AS webhooks,
           (SELECT count(*) FROM job_templates) AS templates,
           (SELECT count(*) FROM outbox_messages WHERE envelope->>'source' = 'roam/gateway') AS outbox`;
  return JSON.stringify(rows[0], (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
}

const junk = fc.oneof(
  fc.constantFrom(
    '..',
    '%2e%2e',
    '%FF',
    '%00',
    'a%00b',
    'me',
    'admin',
    '00000000-0000-7000-8000-000000000000',
  ),
  fc.uuid(),
  fc.string({ maxLength: 80 }).map(encodeURIComponent),
);

const fieldValue = fc.oneof(
  fc.string(),
  // Postgres text and jsonb cannot hold NUL: it must be refused, not fail a write.
  fc.constantFrom('\u0000', 'a\u0000b'),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string()),
  fc.object(),
);

const plausible = fc.record(
  {
    tenant_id: fc.oneof(fc.constantFrom('fuzz-a', 'fuzz-b', 'fuzz-new', 'Bad Id'), fc.string()),
    max_cpu: fieldValue,
    max_concurrent_jobs: fieldValue,
    image: fieldValue,
    command: fc.oneof(fc.array(fc.string()), fieldValue),
    resources: fc.oneof(fc.record({ cpu: fieldValue, memory: fieldValue }), fieldValue),
    name: fieldValue,
    url: fc.oneof(fc.constantFrom('http://127.0.0.1/x', 'https://[::127.0.0.1]/'), fieldValue),
    events: fieldValue,
    spec: fieldValue,
    labels: fc.oneof(fc.dictionary(fc.string(), fc.string()), fieldValue),
    annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), fieldValue),
    priority: fieldValue,
    jobs: fc.oneof(fc.array(fieldValue, { maxLength: 3 }), fieldValue),
  },
  { requiredKeys: [] },
);

const bodies = fc.oneof(
  fc.constant(undefined),
  plausible.map((value) => JSON.stringify(value)),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{', '[]', 'null', '"x"', '{"__proto__": {"admin": true}}', '\u0000', '--x--'),
);

const contentTypes = fc.constantFrom(
  'application/json',
  'text/plain',
  'application/json; charset=latin1',
  'multipart/form-data; boundary=x',
  '',
);

/** An id from the world: one of a's, one of b's, or junk. Picked by index at run time. */
const idChoice = fc.record({
  owner: fc.constantFrom('a', 'b', 'junk'),
  index: fc.nat(),
  junk,
});

const STACK = /\n\s+at |Error: .* at |node_modules/;

/**
 * The property: one request, checked. Throws (fails the run) on a 5xx, a stack trace, a
 * rejection that is not problem+json or changed state, or one tenant seeing the other's ids.
 */
export function routeProperty(world: FuzzWorld, record?: (sample: FuzzSample) => void) {
  return fc.asyncProperty(
    fc.nat(),
    fc.constantFrom(...PRINCIPALS),
    fc.array(idChoice, { minLength: 3, maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 }), { maxKeys: 3 }),
    fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 40 })), { maxLength: 3 }),
    bodies,
    contentTypes,
    async (routeIndex, principal, ids, extraQuery, knownQuery, body, contentType) => {
      const route = world.routes[routeIndex % world.routes.length]!;
      const used: string[] = [];
      let n = 0;
      const path = route.path.replace(/\{[^}]+\}/g, () => {
        const choice = ids[n++ % ids.length]!;
        const value = pickId(world, choice);
        used.push(value);
        return encodeURIComponent(value).replace(/%2F/g, '/');
      });
      const query = new URLSearchParams(extraQuery);
      for (const [i, value] of knownQuery) {
        const name = route.query[i % Math.max(1, route.query.length)];
        if (name) query.set(name, value);
      }
      const headers: Record<string, string> = {};
      if (contentType) headers['content-type'] = contentType;
      if (principal === 'wrong-scheme') headers.authorization = 'Token abc';
      else if (world.keys[principal]) headers.authorization = `Bearer ${world.keys[principal]}`;
      const before = await fingerprint(world.h);
      const qs = query.toString();
      const response = await fetch(`${world.h.url}${path}${qs ? `?${qs}` : ''}`, {
        method: route.method,
        headers,
        body: route.method === 'GET' ? undefined : body,
      });
      const type = response.headers.get('content-type') ?? '';
      // Streams and downloads are judged by their status and headers; JSON is read whole.
      const text = /json/.test(type) || !response.ok ? await response.text() : '';
      if (!(/json/.test(type) || !response.ok)) await response.body?.cancel();
      record?.({ route, principal, status: response.status });
      const where = `${route.method} ${path}?${qs} as ${principal} → ${response.status}`;
      if (response.status >= 500) throw new Error(`${where}: server error ${text}`);
      if (STACK.test(text)) throw new Error(`${where}: stack trace in body`);
      if (response.status >= 400) {
        if (!type.includes('application/problem+json'))
          throw new Error(`${where}: error without problem+json (${type})`);
        const after = await fingerprint(world.h);
        if (after !== before)
          throw new Error(`${where}: rejected but changed ${before} → ${after}`);
      }
      if ((principal === 'a' || principal === 'b') && response.ok) {
        const foreign = ownedIds(world.owned[principal === 'a' ? 'b' : 'a']);
        if (used.some((id) => foreign.includes(id)))
          throw new Error(`${where}: reached another tenant's object`);
        // An id the request itself carried may be echoed back; any other is a leak.
        const leaked = foreign.find((id) => text.includes(id) && !body?.includes(id));
        if (leaked) throw new Error(`${where}: body names another tenant's ${leaked}`);
      }
      if (response.ok && route.method !== 'GET') await settle(world);
    },
  );
}

function pickId(world: FuzzWorld, choice: IdChoice): string {
  if (choice.owner === 'junk') return choice.junk;
  const pool = ownedIds(world.owned[choice.owner]);
  return pool[choice.index % pool.length]!;
}

function ownedIds(owned: Owned): string[] {
  return [owned.tenant, ...owned.jobs, ...owned.webhooks, ...owned.templates, ...owned.keys];
}

type IdChoice = { owner: 'a' | 'b' | 'junk'; index: number; junk: string };

/** The seed every run uses unless FUZZ_SEED says otherwise; printed so a failure can be replayed. */
export function fuzzSeed(): number {
  const seed = Number(process.env.FUZZ_SEED ?? 20261203);
  process.stdout.write(`route fuzzer: seed ${seed} (replay with FUZZ_SEED=${seed})\n`);
  return seed;
}
