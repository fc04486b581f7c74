import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  createMigration,
  findMigrationsDir,
  findSchemaPath,
  migrateDatabase,
} from '../src/index.js';
import { copyMigrations, dropDatabase, query, SERVER_URL, uniqueDatabase } from './helpers.js';

async function shadowDatabases(): Promise<string[]> {
  const rows = await query<{ datname: string }>(
    SERVER_URL,
    "SELECT datname FROM pg_database WHERE datname LIKE 'roam\\_shadow\\_%'",
  );
  return rows.map((r) => r.datname);
}

describe('createMigration', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('reports no changes when the migrations already match the schema, and writes nothing', async () => {
    const dir = findMigrationsDir();
    const before = await readdir(dir);
    const shadowsBefore = await shadowDatabases();

    const result = await createMigration('nothing to do', { databaseUrl: SERVER_URL });

    expect(result).toEqual({ created: false });
    expect(await readdir(dir)).toEqual(before);
    expect(await shadowDatabases()).toEqual(shadowsBefore);
  });

  it('writes the diff for a changed schema as a new timestamped folder that migrates cleanly', async () => {
    const copy = await copyMigrations();
    cleanups.push(copy.remove);
    const schemaPath = join(copy.dir, '..', 'schema.prisma');
    const schema = await readFile(findSchemaPath(), 'utf8');
    const changed = schema.replace(/(model ProcessedMessage \{\n)/, '$1  note String?\n');
    expect(changed).not.toBe(schema);
    await writeFile(schemaPath, changed);

    const result = await createMigration('Add note!', {
      databaseUrl: SERVER_URL,
      migrationsDir: copy.dir,
      schemaPath,
      now: () => new Date('2099-01-02T03:04:05Z'),
    });

    expect(result).toMatchObject({ created: true, name: '20990102030405_add_note' });
    if (!result.created) throw new Error('expected a migration');
    expect(result.sql).toContain('ALTER TABLE "processed_messages" ADD COLUMN');
    expect(await readFile(join(copy.dir, result.name, 'migration.sql'), 'utf8')).toBe(result.sql);

    const db = uniqueDatabase('create');
    cleanups.push(() => dropDatabase(db.name));
    const applied = await migrateDatabase({ databaseUrl: db.url, migrationsDir: copy.dir });
    expect(applied.applied.at(-1)).toBe(result.name);
    const columns = await query(
      db.url,
      "SELECT 1 FROM information_schema.columns WHERE table_name = 'processed_messages' AND column_name = 'note'",
    );
    expect(columns).toHaveLength(1);
  });
});
