import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { findMigrationsDir, migrateDatabase, readMigrations } from '../src/index.js';
import { copyMigrations, databaseExists, dropDatabase, query, uniqueDatabase } from './helpers.js';

interface HistoryRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

describe('migrateDatabase', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function freshDatabase(): { name: string; url: string } {
    const db = uniqueDatabase('migrate');
    cleanups.push(() => dropDatabase(db.name));
    return db;
  }

  it('creates a missing database and records every migration as prisma migrate deploy does', async () => {
    const db = freshDatabase();
    const migrations = await readMigrations(findMigrationsDir());
    expect(migrations.length).toBeGreaterThan(0);
    expect(await databaseExists(db.name)).toBe(false);

    const result = await migrateDatabase({ databaseUrl: db.url });

    expect(await databaseExists(db.name)).toBe(true);
    expect(result.applied).toEqual(migrations.map((m) => m.name));
    const rows = await query<HistoryRow>(
      db.url,
      'SELECT * FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(migrations.map((m) => m.name));
    for (const [i, row] of rows.entries()) {
      const file = await readFile(
        join(findMigrationsDir(), row.migration_name, 'migration.sql'),
        'utf8',
      );
      expect(row.checksum).toBe(migrations[i]?.checksum);
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(file).toBe(migrations[i]?.sql);
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    const tables = await query<{ tablename: string }>(
      db.url,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    );
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining(['tenants', 'jobs', 'outbox_messages']),
    );
  });

  it('applies nothing on a second run', async () => {
    const db = freshDatabase();
    await migrateDatabase({ databaseUrl: db.url });
    const lines: string[] = [];

    const second = await migrateDatabase({ databaseUrl: db.url, log: (line) => lines.push(line) });

    expect(second.applied).toEqual([]);
    expect(lines).toContain('database is up to date');
  });

  it('applies each migration exactly once when two runs race', async () => {
    const db = freshDatabase();
    const migrations = await readMigrations(findMigrationsDir());

    const [a, b] = await Promise.all([
      migrateDatabase({ databaseUrl: db.url }),
      migrateDatabase({ databaseUrl: db.url }),
    ]);

    expect([...a.applied, ...b.applied].sort()).toEqual(migrations.map((m) => m.name).sort());
    const rows = await query<{ migration_name: string; n: number }>(
      db.url,
      'SELECT migration_name, count(*)::int AS n FROM _prisma_migrations GROUP BY migration_name',
    );
    expect(rows).toHaveLength(migrations.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  });

  it('refuses to run when an applied migration was edited, and changes nothing', async () => {
    const db = freshDatabase();
    const copy = await copyMigrations();
    cleanups.push(copy.remove);
    await migrateDatabase({ databaseUrl: db.url, migrationsDir: copy.dir });
    const [first] = await readMigrations(copy.dir);
    if (first === undefined) throw new Error('no migrations to tamper with');
    await writeFile(
      join(copy.dir, first.dir, 'migration.sql'),
      `${first.sql}\n-- edited after apply\n`,
    );
    const before = await query(db.url, 'SELECT * FROM _prisma_migrations ORDER BY id');

    await expect(migrateDatabase({ databaseUrl: db.url, migrationsDir: copy.dir })).rejects.toThrow(
      new RegExp(`checksum mismatch: migration\\(s\\) ${first.name} changed`),
    );
    expect(await query(db.url, 'SELECT * FROM _prisma_migrations ORDER BY id')).toEqual(before);
  });

  it('accepts a migration whose only change is CRLF line endings, as Prisma does', async () => {
    const db = freshDatabase();
    const copy = await copyMigrations();
    cleanups.push(copy.remove);
    await migrateDatabase({ databaseUrl: db.url, migrationsDir: copy.dir });
    const [first] = await readMigrations(copy.dir);
    if (first === undefined) throw new Error('no migrations');
    await writeFile(join(copy.dir, first.dir, 'migration.sql'), first.sql.replace(/\n/g, '\r\n'));

    await expect(
      migrateDatabase({ databaseUrl: db.url, migrationsDir: copy.dir }),
    ).resolves.toEqual({ applied: [] });
  });

  it('rolls back a failing migration entirely and records nothing for it', async () => {
    const db = freshDatabase();
    const copy = await copyMigrations();
    cleanups.push(copy.remove);
    await migrateDatabase({ databaseUrl: db.url, migrationsDir: copy.dir });
    await mkdir(join(copy.dir, '99990101000000_broken'));
    await writeFile(
      join(copy.dir, '99990101000000_broken', 'migration.sql'),
      'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n',
    );

    await expect(migrateDatabase({ databaseUrl: db.url, migrationsDir: copy.dir })).rejects.toThrow(
      /99990101000000_broken failed and was rolled back/,
    );
    expect(await query(db.url, "SELECT 1 FROM pg_tables WHERE tablename = 'half_done'")).toEqual(
      [],
    );
    expect(
      await query(db.url, "SELECT 1 FROM _prisma_migrations WHERE migration_name LIKE '9999%'"),
    ).toEqual([]);
  });
});
