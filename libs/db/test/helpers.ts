import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findMigrationsDir } from '../src/index.js';

export const SERVER_URL =
  process.env['TEST_DATABASE_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** A database name no other test (or run) uses; the database itself is not created. */
export function uniqueDatabase(prefix: string): { name: string; url: string } {
  const name = `roam_${prefix}_${randomBytes(6).toString('hex')}`;
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

export async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export async function databaseExists(name: string): Promise<boolean> {
  const rows = await query(SERVER_URL, 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return rows.length === 1;
}

export async function dropDatabase(name: string): Promise<void> {
  await query(SERVER_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/** A private copy of the repository's migrations that a test may edit. */
export async function copyMigrations(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'roam-migrations-'));
  const dir = join(root, 'migrations');
  await cp(findMigrationsDir(), dir, { recursive: true });
  return { dir, remove: () => rm(root, { recursive: true, force: true }) };
}
