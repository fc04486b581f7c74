import { afterEach, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../../testing/src/database.js';
import { isUniqueViolation } from '../src/index.js';
import { databaseExists } from './helpers.js';

function tenant(id: string, namespace = `roam-${id}`) {
  return { id, namespace };
}

describe('createTestDatabase', () => {
  const open: TestDatabase[] = [];
  afterEach(async () => {
    for (const db of open.splice(0)) await db.drop();
  });

  async function testDatabase(name: string): Promise<TestDatabase> {
    const db = await createTestDatabase(name);
    open.push(db);
    return db;
  }

  it('gives each caller its own migrated database', async () => {
    const [a, b] = await Promise.all([testDatabase('isolation a'), testDatabase('isolation b')]);
    expect(a.url).not.toBe(b.url);

    await a.prisma.tenant.create({ data: tenant('acme') });

    expect(await a.prisma.tenant.count()).toBe(1);
    expect(await b.prisma.tenant.count()).toBe(0);
  });

  it('drops the database on drop()', async () => {
    const db = await createTestDatabase('drop');
    const name = new URL(db.url).pathname.slice(1);
    expect(await databaseExists(name)).toBe(true);

    await db.drop();

    expect(await databaseExists(name)).toBe(false);
  });
});

describe('isUniqueViolation', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it('recognises a real duplicate insert, by constraint name or columns', async () => {
    db = await createTestDatabase('unique');
    await db.prisma.tenant.create({ data: tenant('acme') });

    const duplicateNamespace = await db.prisma.tenant
      .create({ data: tenant('other', 'roam-acme') })
      .catch((err: unknown) => err);
    const duplicateId = await db.prisma.tenant
      .create({ data: tenant('acme', 'roam-new') })
      .catch((err: unknown) => err);

    expect(isUniqueViolation(duplicateNamespace)).toBe(true);
    expect(isUniqueViolation(duplicateNamespace, 'tenants_namespace_key')).toBe(true);
    expect(isUniqueViolation(duplicateNamespace, 'tenants_pkey')).toBe(false);
    expect(isUniqueViolation(duplicateId, 'tenants_pkey')).toBe(true);
    expect(isUniqueViolation(new Error('boom'))).toBe(false);
    expect(isUniqueViolation(undefined)).toBe(false);
  });
});
