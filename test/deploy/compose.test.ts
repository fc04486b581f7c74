import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { workerPorts } from '@roam/config';
import { parse } from 'yaml';

import {
  appNames,
  envSchema,
  launcher,
  repoRoot,
  resolveLaunch,
  schemaKeys,
  sourceOf,
} from './deploy-helpers.js';

/**
 * docker-compose.yml cannot be run here (no Docker engine), so it is checked against what the
 * code says: the apps and their env schemas in libs/config, the image's launcher, the health
 * routes. A renamed variable, a wrong port or a missing dependency fails here.
 */

interface Healthcheck {
  test?: string[] | string;
}
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target: number; published?: string | number })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: Healthcheck;
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
}

const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as Compose;
const services = compose.services;

function list(value: string[] | string | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean);
}

function environment(service: Service): Record<string, string> {
  const env: Record<string, string> = {};
  const raw = service.environment ?? {};
  if (Array.isArray(raw)) {
    for (const entry of raw) {
      const [key = '', ...value] = entry.split('=');
      env[key] = value.join('=');
    }
  } else {
    for (const [key, value] of Object.entries(raw)) env[key] = value === null ? '' : String(value);
  }
  return env;
}

function dependsOn(service: Service): Record<string, string | undefined> {
  const raw = service.depends_on ?? {};
  if (Array.isArray(raw)) return Object.fromEntries(raw.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(raw).map(([name, dep]) => [name, dep.condition]));
}

/** The service that runs `app` (its command's first word), exactly one. */
function serviceFor(app: string): [string, Service] {
  const found = Object.entries(services).filter(([, service]) => list(service.command)[0] === app);
  expect(found.map(([name]) => name)).toHaveLength(1);
  return found[0]!;
}

const roamImage = services['migrate']?.image;

describe('docker-compose.yml', () => {
  it('runs the migration from the roam image once Postgres is healthy', () => {
    const migrate = services['migrate'];
    expect(migrate).toBeDefined();
    expect(roamImage).toMatch(/^roam(:|$)/);
    expect(migrate!.build).toBeDefined();
    expect(migrate!.entrypoint).toBeUndefined();
    const launch = resolveLaunch(list(migrate!.command));
    expect(launch.module).toBe(join(repoRoot, 'libs/db/dist/migrate/cli.js'));
    expect(launch.args).toEqual(['deploy']);
    expect(existsSync(sourceOf(launch.module))).toBe(true);
    expect(dependsOn(migrate!)).toEqual({ postgres: 'service_healthy' });
    expect(migrate!.restart ?? 'no').toBe('no');
    expect(Object.keys(environment(migrate!))).toEqual(['DATABASE_URL']);
  });

  it('runs Postgres 16, NATS 2.10 with JetStream and MinIO, each with a healthcheck', () => {
    expect(services['postgres']?.image).toMatch(/^postgres:16(\.|$|-)/);
    expect(list(services['postgres']?.healthcheck?.test)).toContain('pg_isready');

    const nats = services['nats'];
    expect(nats?.image).toMatch(/^nats:2\.10(\.|$|-)/);
    // JetStream, /data and the monitoring port come from the generated deploy/nats/nats.conf
    // (test/deploy/nats-config.test.ts checks the file and the logins).
    expect(list(nats?.command)).toEqual(['-c', '/etc/nats/nats.conf']);
    const natsConfig = readFileSync(join(repoRoot, 'deploy/nats/nats.conf'), 'utf8');
    expect(natsConfig).toMatch(/jetstream \{\n {2}store_dir: "\/data"/);
    const monitorPort = /^http_port: (\d+)$/m.exec(natsConfig)?.[1];
    expect(list(nats?.healthcheck?.test).join(' ')).toContain(
      `http://127.0.0.1:${monitorPort}/healthz`,
    );

    expect(services['minio']?.image).toMatch(/^minio\/minio:/);
    expect(list(services['minio']?.healthcheck?.test).length).toBeGreaterThan(1);
  });

  it.each(appNames)('%s: one service, the roam image, launching apps/%s', (app) => {
    const [, service] = serviceFor(app);
    expect(service.image).toBe(roamImage);
    expect(service.entrypoint).toBeUndefined();
    expect(service.restart).toBe('unless-stopped');
    const launch = resolveLaunch(list(service.command));
    expect(launch.module).toBe(join(repoRoot, 'apps', app, 'dist/main.js'));
    expect(launch.args).toEqual([]);
    expect(existsSync(sourceOf(launch.module))).toBe(true);
  });

  it.each(appNames)('%s: every variable is a key of its schema, and the env parses', (app) => {
    const [, service] = serviceFor(app);
    const env = environment(service);
    const keys = schemaKeys(app);
    expect(Object.keys(env).filter((key) => !keys.includes(key))).toEqual([]);
    const parsed = envSchema(app).safeParse(env);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data?.PORT).toBe(workerPorts[app]);
    // Reachable from other containers and from the published port.
    expect(parsed.data?.HOST).toBe('0.0.0.0');
    expect(parsed.data?.NODE_ENV).toBe('production');
    expect(parsed.data?.DATABASE_URL).toBe(environment(services['migrate']!)['DATABASE_URL']);
    expect(new URL(parsed.data!.NATS_URL.split(',')[0]!).hostname).toBe('nats');
  });

  it.each(appNames)('%s: published ports map to its PORT; only the gateway is published', (app) => {
    const [, service] = serviceFor(app);
    const targets = (service.ports ?? []).map((port) =>
      typeof port === 'string' ? Number(port.split(':').at(-1)) : port.target,
    );
    expect(targets).toEqual(app === 'gateway' ? [workerPorts.gateway] : []);
    if (app === 'gateway') expect(service.ports).toEqual([`${workerPorts.gateway}:8000`]);
  });

  it.each(appNames)('%s: healthcheck probes /health/ready on its PORT', (app) => {
    const [, service] = serviceFor(app);
    const test = list(service.healthcheck?.test);
    expect(test).toEqual([
      'CMD',
      'node',
      '/app/launch.mjs',
      'probe',
      `http://127.0.0.1:${workerPorts[app]}/health/ready`,
    ]);
  });

  it.each(appNames)('%s: starts after the migration, with Postgres and NATS healthy', (app) => {
    const [, service] = serviceFor(app);
    const deps = dependsOn(service);
    expect(deps).toMatchObject({
      migrate: 'service_completed_successfully',
      postgres: 'service_healthy',
      nats: 'service_healthy',
    });
    for (const [name, condition] of Object.entries(deps)) {
      expect(services[name]).toBeDefined();
      if (name !== 'migrate') expect(condition).toBe('service_healthy');
      if (condition === 'service_healthy') expect(services[name]!.healthcheck).toBeDefined();
    }
  });

  it('the probe command the healthchecks run passes on 200 and fails on 503 or no answer', async () => {
    const server = createServer((request, response) => {
      response.statusCode = request.url === '/health/ready' ? 200 : 503;
      response.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const probe = async (url: string): Promise<number | null> => {
      const child = spawn(process.execPath, [launcher, 'probe', url], { stdio: 'ignore' });
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    };
    try {
      expect(await probe(`http://127.0.0.1:${port}/health/ready`)).toBe(0);
      expect(await probe(`http://127.0.0.1:${port}/health/other`)).toBe(1);
    } finally {
      server.close();
    }
    expect(await probe(`http://127.0.0.1:${port}/health/ready`)).toBe(1);
  });

  it('the launcher refuses a name that is not an app', () => {
    expect(() => resolveLaunch(['../etc/passwd'])).toThrow(/not an app name/);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const dockerignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n');
  const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('is multi-stage: dependencies from the lockfile, build, then a runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/pnpm fetch/);
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile/);
    expect(dockerfile).toMatch(/pnpm install --prod --frozen-lockfile/);
    expect(dockerfile).toMatch(/node scripts\/build\.mjs/);
    expect(dockerfile).not.toMatch(/^RUN .*corepack/m);
    expect(existsSync(join(repoRoot, 'scripts/build.mjs'))).toBe(true);
  });

  it('runs as a non-root user in production mode, through the launcher', () => {
    expect(runtime).toMatch(/^USER\s+(?!root|0[\s:])\S+/m);
    expect(runtime).toMatch(/NODE_ENV=production/);
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "\/app\/launch\.mjs"\]$/m);
    expect(runtime).toMatch(/^CMD \["gateway"\]$/m);
    expect(runtime).not.toMatch(/pnpm|npm install/);
    expect(dockerfile).toMatch(/deploy\/docker\/launch\.mjs \/out\/launch\.mjs/);
  });

  it('.dockerignore keeps dependencies, builds and git out of the context', () => {
    for (const pattern of ['**/node_modules', '**/dist', '.git', '.roam', '**/coverage']) {
      expect(dockerignore).toContain(pattern);
    }
    // The launcher the image copies must stay in the context.
    expect(dockerignore).toContain('!deploy/docker');
  });
});
