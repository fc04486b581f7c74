import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type operations, RoamClient } from '@roam/client';
import { gatewayEnv } from '@roam/config';
import type { PrismaClient } from '@roam/db';
import { Kube } from '@roam/kube';
import { createRoamApp, type RoamApp } from '@roam/runtime';
import { type RunningSimulator, startSimulator } from '@roam/sim';
import {
  createTestDatabase,
  deleteTestStreams,
  eventually,
  testNatsUrl,
  testSubjectPrefix,
} from '@roam/testing';

import { schedulerEnv } from '../../apps/scheduler/src/scheduler.config.js';
import { reconcilerEnv } from '../../apps/reconciler/src/reconciler.config.js';
import { ReconcilerModule } from '../../apps/reconciler/src/reconciler.module.js';
import { SchedulerModule } from '../../apps/scheduler/src/scheduler.module.js';
import { GatewayModule } from '../../apps/gateway/src/gateway.module.js';

type TenantCreate = NonNullable<
  operations['Tenants_create']['requestBody']
>['content']['application/json'];

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123456789';

export interface Harness {
  url: string;
  prisma: PrismaClient;
  kube: Kube;
  sim: RunningSimulator;
  env: Record<string, string>;
  /** The in-process scheduler, for tests that drive its services (`scheduler.app.get(…)`). */
  scheduler: RoamApp<unknown>;
  /** The in-process reconciler, likewise (`reconciler.app.get(…)`). */
  reconciler: RoamApp<unknown>;
  /** Starts another gateway on the same database and NATS prefix with extra settings. */
  gateway(extra: Record<string, string>): Promise<RoamApp<unknown>>;
  close(): Promise<void>;
}

/**
 * The admission mode suites run in: `roam`, or `kueue` when the `kueue` jest project runs the
 * roam-mode flow suites again (jest.config.mjs), so they must pass unchanged with Kueue (the
 * simulator's) admitting. A suite's own `ROAM_ADMISSION` wins.
 */
const harnessAdmission = (): Record<string, string> =>
  process.env.ROAM_HARNESS_ADMISSION ? { ROAM_ADMISSION: process.env.ROAM_HARNESS_ADMISSION } : {};

/**
 * One suite's world: its own database, NATS subject prefix and simulator, and the gateway,
 * scheduler and reconciler running in-process against them.
 */
export async function startHarness(
  name: string,
  extraEnv: Record<string, string> = {},
  options: { world?: unknown; volumesDir?: string } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), `roam-${name}-`));
  const prefix = testSubjectPrefix();
  const db = await createTestDatabase(name);
  const sim = await startSimulator({
    port: 0,
    speed: 200,
    ...(options.world ? { world: options.world } : {}),
    ...(options.volumesDir ? { volumesDir: options.volumesDir } : {}),
    kubeconfigPath: join(dir, 'kubeconfig'),
    log: () => {},
  });
  const env = {
    DATABASE_URL: db.url,
    NATS_URL: testNatsUrl(),
    NATS_SUBJECT_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: 'silent',
    KUBECONFIG: sim.kubeconfigPath,
    ROAM_ADMIN_TOKEN: ADMIN_TOKEN,
    ROAM_REGISTRATION: 'open',
    RECONCILE_INTERVAL_MS: '200',
    ADMISSION_INTERVAL_MS: '200',
    LOST_GRACE_MS: '2000',
    OUTBOX_RELAY_INTERVAL_MS: '200',
    ...harnessAdmission(),
    ...extraEnv,
  };
  const apps: RoamApp<unknown>[] = [];
  const gateway = async (extra: Record<string, string>) => {
    const app = await createRoamApp({
      name: 'gateway',
      schema: gatewayEnv,
      module: GatewayModule,
      env: { ...env, ...extra },
    });
    apps.push(app);
    return app;
  };
  const release = async () => {
    for (const app of apps.reverse()) await app.close();
    await sim.close();
    await db.drop();
    await deleteTestStreams(prefix);
    await rm(dir, { recursive: true, force: true });
  };
  let main: RoamApp<unknown>;
  let scheduler: RoamApp<unknown>;
  let reconciler: RoamApp<unknown>;
  try {
    main = await gateway({});
    scheduler = await createRoamApp({
      name: 'scheduler',
      schema: schedulerEnv,
      module: SchedulerModule,
      env,
    });
    apps.push(scheduler);
    reconciler = await createRoamApp({
      name: 'reconciler',
      schema: reconcilerEnv,
      module: ReconcilerModule,
      env,
    });
    apps.push(reconciler);
  } catch (error) {
    // An app that failed to start must not leave the others polling a database being dropped.
    await release().catch(() => {});
    throw error;
  }
  return {
    url: main.url,
    prisma: db.prisma,
    kube: Kube.fromKubeconfig(sim.kubeconfigPath),
    sim,
    env,
    scheduler,
    reconciler,
    gateway,
    close: release,
  };
}

export interface Call {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A tiny JSON client: `call(url, 'POST', '/api/v1/jobs', body, key)`. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  key?: string,
): Promise<Call> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/**
 * Creates a tenant through the typed client (`POST /api/v1/tenants`), as an admin (so the limits
 * asked for are the limits given, not open registration's ceilings), and returns its API key.
 */
export async function register(
  base: string,
  tenantId: string,
  limits: Partial<Omit<TenantCreate, 'tenant_id'>> = {},
): Promise<string> {
  const roam = new RoamClient({ baseUrl: base, apiKey: ADMIN_TOKEN });
  const created = await roam.api.POST('/api/v1/tenants', {
    body: { tenant_id: tenantId, ...limits },
  });
  if (!created.data)
    throw new Error(
      `register ${tenantId}: ${created.response.status} ${JSON.stringify(created.error)}`,
    );
  return created.data.api_key;
}

/** Waits until the Kubernetes Job `namespace/name` is gone (deletion is the reconciler's, after the answer). */
export function kubeJobDeleted(h: Harness, namespace: string, name: string): Promise<true> {
  return eventually(
    `Job ${namespace}/${name} to be deleted`,
    async () =>
      (await h.kube.get({ apiVersion: 'batch/v1', kind: 'Job', name, namespace })) === undefined,
  );
}
