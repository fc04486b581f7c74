import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One `prisma/migrations/<timestamp>_<name>/migration.sql`, as `prisma migrate deploy` sees it. */
export interface MigrationFile {
  /** Folder name, e.g. `20261122010203_init`; also `_prisma_migrations.migration_name`. */
  name: string;
  /** Folder path relative to the migrations directory (what the schema engine wants). */
  dir: string;
  sql: string;
  /** Lower-case hex SHA-256 of the file, as Prisma stores it. */
  checksum: string;
}

export const MIGRATION_FILE = 'migration.sql';
export const LOCK_FILE = 'migration_lock.toml';

/**
 * Walks up from this module (src/ in tests, dist/ when built, or an image's copy) to the first
 * directory that holds `relativePath`. The repository layout is the contract, not the cwd.
 */
function findUp(
  relativePath: string,
  from: string = dirname(fileURLToPath(import.meta.url)),
): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function findMigrationsDir(explicit?: string): string {
  if (explicit !== undefined) return resolve(explicit);
  const found = findUp(join('prisma', 'migrations'));
  if (found === undefined) {
    throw new Error('cannot find prisma/migrations above @roam/db; pass migrationsDir explicitly');
  }
  return found;
}

export function findSchemaPath(explicit?: string): string {
  if (explicit !== undefined) return resolve(explicit);
  const found = findUp(join('prisma', 'schema.prisma'));
  if (found === undefined) {
    throw new Error('cannot find prisma/schema.prisma above @roam/db; pass schemaPath explicitly');
  }
  return found;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Prisma accepts a script whose checksum matches with either line ending, because git may
 * rewrite them on checkout; do the same so a Windows checkout is not called "tampered".
 */
export function checksumMatches(sql: string, checksum: string): boolean {
  const lf = sql.replace(/\r\n/g, '\n');
  const crlf = lf.replace(/\n/g, '\r\n');
  return [sql, lf, crlf].some((variant) => sha256Hex(variant) === checksum);
}

/** Migrations in apply order (folder names start with a UTC timestamp, so lexical order). */
export async function readMigrations(migrationsDir: string): Promise<MigrationFile[]> {
  if (!existsSync(migrationsDir)) return [];
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const migrations: MigrationFile[] = [];
  for (const name of names) {
    const path = join(migrationsDir, name, MIGRATION_FILE);
    // Prisma ignores folders without a migration.sql (e.g. a half-created one); so do we.
    if (!existsSync(path)) continue;
    const sql = await readFile(path, 'utf8');
    migrations.push({ name, dir: name, sql, checksum: sha256Hex(sql) });
  }
  return migrations;
}
