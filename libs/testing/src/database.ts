// A freshly migrated Postgres database per test suite, in well under a second: the migrations
// run once into a template database, and each suite gets `CREATE DATABASE … TEMPLATE …`, a
// file-level copy that costs no more for a full schema than for an empty one.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  createPrismaClient,
  findMigrationsDir,
  migrateDatabase,
  readMigrations,
  type PrismaClient,
} from '@roam/db';

export interface TestDatabase {
  url: string;
  prisma: PrismaClient;
  /** Disconnects `prisma` and drops the database (ending any session a test leaked). */
  drop(): Promise<void>;
}

const DEFAULT_SERVER_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
/** Serialises template builds across jest workers and concurrent test runs on one server. */
const TEMPLATE_LOCK_KEY = 0x726f616d; // "roam"
const TEMPLATE_PREFIX = 'roam_tpl_';

let template: Promise<string> | undefined;

/**
 * A new database migrated to the current `prisma/migrations`, named after the suite. The
 * server comes from TEST_DATABASE_URL (any database on it; default: local `postgres`). Throws
 * when the server cannot be reached: a test without its database must fail, not pass.
 */
export async function createTestDatabase(name = 'suite'): Promise<TestDatabase> {
  const serverUrl = process.env['TEST_DATABASE_URL'] ?? DEFAULT_SERVER_URL;
  template ??= ensureTemplate(serverUrl);
  const tpl = await template.catch((err: unknown) => {
    template = undefined; // let the next suite retry, e.g. after the server came up
    throw err;
  });
  const database = testDatabaseName(name);
  await withMaintenance(serverUrl, (client) =>
    client.query(`CREATE DATABASE ${quoteIdent(database)} TEMPLATE ${quoteIdent(tpl)}`),
  );
  const url = withDatabase(serverUrl, database);
  const prisma = createPrismaClient({ databaseUrl: url, poolSize: 4 });
  let dropped = false;
  return {
    url,
    prisma,
    async drop() {
      if (dropped) return;
      dropped = true;
      await prisma.$disconnect();
      await withMaintenance(serverUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`),
      );
    },
  };
}

/**
 * The template's name carries a hash of every migration's name and checksum, so editing or
 * adding a migration makes a new template instead of reusing a stale one. It is built under
 * another name and renamed when complete, so a crash mid-build never leaves a half template.
 */
async function ensureTemplate(serverUrl: string): Promise<string> {
  const migrationsDir = findMigrationsDir();
  const migrations = await readMigrations(migrationsDir);
  const fingerprint = createHash('sha256')
    .update(migrations.map((m) => `${m.name}:${m.checksum}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const tpl = `${TEMPLATE_PREFIX}${fingerprint}`;
  await withMaintenance(serverUrl, async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      if (await databaseExists(client, tpl)) {
        await markUsed(client, tpl);
        return;
      }
      await dropStaleTemplates(client);
      const building = `${tpl}_building`;
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`);
      await migrateDatabase({ databaseUrl: withDatabase(serverUrl, building), migrationsDir });
      await client.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(tpl)}`);
      await markUsed(client, tpl);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  });
  return tpl;
}

/**
 * How long a template of another migration set is kept. Checkouts of other branches may share
 * this server and still be creating suite databases from theirs; dropping it under them would
 * fail their suites, so only templates nobody has used for a day go.
 */
const STALE_TEMPLATE_MS = 24 * 3600 * 1000;
const USED_AT = 'roam test template, last used ';

function markUsed(client: pg.Client, tpl: string): Promise<unknown> {
  const comment = `${USED_AT}${new Date().toISOString()}`;
  return client.query(`COMMENT ON DATABASE ${quoteIdent(tpl)} IS ${quoteLiteral(comment)}`);
}

/** Templates of other migration sets older than a day; only ever dropped under the template lock. */
async function dropStaleTemplates(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ datname: string; comment: string | null }>(
    "SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname LIKE 'roam\\_tpl\\_%'",
  );
  const now = Date.now();
  for (const { datname, comment } of rows) {
    const used = comment?.startsWith(USED_AT) ? Date.parse(comment.slice(USED_AT.length)) : NaN;
    if (Number.isFinite(used) && now - used < STALE_TEMPLATE_MS) continue;
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
  }
}

async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return rowCount !== 0;
}

/** `roam_test_<suite>_<random>`, within Postgres' 63-byte identifier limit. */
function testDatabaseName(suite: string): string {
  const slug = suite
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 36);
  return `roam_test_${slug || 'suite'}_${randomBytes(6).toString('hex')}`;
}

async function withMaintenance<T>(
  serverUrl: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const url = withDatabase(serverUrl, 'postgres');
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    const reason = describeConnectError(err);
    throw new Error(
      `createTestDatabase: cannot reach Postgres at ${redact(url)} (${reason}). ` +
        'Start Postgres or point TEST_DATABASE_URL at one; database tests do not run without it.',
      { cause: err },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** pg reports a refused connection as an AggregateError with an empty message. */
function describeConnectError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return err.message || (typeof code === 'string' ? code : err.name);
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
