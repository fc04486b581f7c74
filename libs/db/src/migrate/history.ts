import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * The `_prisma_migrations` table exactly as Prisma's schema engine creates it on Postgres, so a
 * database migrated here can later be handled by `prisma migrate deploy`/`status` and back.
 */
const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/**
 * The key Prisma's schema engine passes to pg_advisory_lock while migrating, so this tool and
 * the real `prisma migrate deploy` also exclude each other.
 */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

export interface AppliedMigration {
  name: string;
  checksum: string;
  finishedAt: Date | null;
  rolledBackAt: Date | null;
}

export async function ensureHistoryTable(client: pg.ClientBase): Promise<void> {
  await client.query(CREATE_TABLE);
}

export async function readHistory(client: pg.ClientBase): Promise<AppliedMigration[]> {
  const { rows } = await client.query<{
    migration_name: string;
    checksum: string;
    finished_at: Date | null;
    rolled_back_at: Date | null;
  }>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
  return rows.map((row) => ({
    name: row.migration_name,
    checksum: row.checksum,
    finishedAt: row.finished_at,
    rolledBackAt: row.rolled_back_at,
  }));
}

/**
 * Records a migration applied in the current transaction. Prisma writes the row before running
 * the script and completes it after; since the script and this row commit together here, one
 * insert with both timestamps leaves the same final row.
 */
export async function recordApplied(
  client: pg.ClientBase,
  name: string,
  checksum: string,
  startedAt: Date,
): Promise<void> {
  await client.query(
    `INSERT INTO "_prisma_migrations"
       (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
     VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, $4, 1)`,
    [randomUUID(), checksum, name, startedAt],
  );
}
