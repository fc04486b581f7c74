import type pg from 'pg';
import { databaseName, describe, ensureDatabase, redactUrl, withClient } from './database-url.js';
import { checksumMatches, findMigrationsDir, readMigrations, type MigrationFile } from './files.js';
import {
  ensureHistoryTable,
  PRISMA_ADVISORY_LOCK_KEY,
  readHistory,
  recordApplied,
  type AppliedMigration,
} from './history.js';

export interface MigrateDatabaseOptions {
  databaseUrl: string;
  /** Defaults to the repository's `prisma/migrations`, found by walking up from this module. */
  migrationsDir?: string;
  log?: (line: string) => void;
}

export interface MigrateDatabaseResult {
  /** Names of the migrations this call applied, in order; empty when already up to date. */
  applied: string[];
}

/**
 * `prisma migrate deploy` without the native engine: creates the database if missing, then
 * under Prisma's own advisory lock applies every pending migration in its own transaction and
 * records it in `_prisma_migrations`. Refuses, before changing anything, when an applied
 * migration was edited or is missing its success mark (a failed `prisma migrate deploy`);
 * warns about applied migrations this checkout does not have (a newer release ran first).
 */
export async function migrateDatabase(
  options: MigrateDatabaseOptions,
): Promise<MigrateDatabaseResult> {
  const log = options.log ?? (() => undefined);
  const migrationsDir = findMigrationsDir(options.migrationsDir);
  const migrations = await readMigrations(migrationsDir);
  if (await ensureDatabase(options.databaseUrl)) {
    log(`created database ${databaseName(options.databaseUrl)}`);
  }
  return withClient(options.databaseUrl, async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    try {
      return await applyPending(client, migrations, log);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    }
  }).catch((err: unknown) => {
    throw new Error(`migrating ${redactUrl(options.databaseUrl)} failed: ${describe(err)}`, {
      cause: err,
    });
  });
}

async function applyPending(
  client: pg.Client,
  migrations: MigrationFile[],
  log: (line: string) => void,
): Promise<MigrateDatabaseResult> {
  await ensureHistoryTable(client);
  const history = await readHistory(client);
  const pending = pendingMigrations(migrations, history);
  for (const name of unknownMigrations(migrations, history)) {
    log(`warning: ${name} is applied in the database but not in the migrations directory`);
  }
  const applied: string[] = [];
  for (const migration of pending) {
    log(`applying ${migration.name}`);
    await applyOne(client, migration);
    applied.push(migration.name);
  }
  log(applied.length === 0 ? 'database is up to date' : `applied ${applied.length} migration(s)`);
  return { applied };
}

/** The migrations still to apply, after checking the database's history against the files. */
export function pendingMigrations(
  migrations: MigrationFile[],
  history: AppliedMigration[],
): MigrationFile[] {
  const live = history.filter((row) => row.rolledBackAt === null);
  const failed = live.filter((row) => row.finishedAt === null).map((row) => row.name);
  if (failed.length > 0) {
    throw new Error(
      `migration(s) ${failed.join(', ')} failed earlier and were never marked rolled back; ` +
        'repair the database, then mark them with `prisma migrate resolve`',
    );
  }
  const byName = new Map(live.map((row) => [row.name, row]));
  const edited = migrations.filter((m) => {
    const row = byName.get(m.name);
    return row !== undefined && !checksumMatches(m.sql, row.checksum);
  });
  if (edited.length > 0) {
    throw new Error(
      `checksum mismatch: migration(s) ${edited.map((m) => m.name).join(', ')} changed after ` +
        'they were applied. Never edit an applied migration; restore it and add a new one',
    );
  }
  return migrations.filter((m) => !byName.has(m.name));
}

function unknownMigrations(migrations: MigrationFile[], history: AppliedMigration[]): string[] {
  const known = new Set(migrations.map((m) => m.name));
  return history
    .filter((row) => row.rolledBackAt === null && !known.has(row.name))
    .map((row) => row.name);
}

/** Script and history row commit together: a failed script leaves no trace to repair. */
async function applyOne(client: pg.Client, migration: MigrationFile): Promise<void> {
  const startedAt = new Date();
  await client.query('BEGIN');
  try {
    await client.query(migration.sql);
    await recordApplied(client, migration.name, migration.checksum, startedAt);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(`migration ${migration.name} failed and was rolled back: ${describe(err)}`, {
      cause: err,
    });
  }
}
