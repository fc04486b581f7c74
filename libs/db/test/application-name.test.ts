import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@roam/testing';

import { createPrismaClient } from '../src/index.js';

describe("a client's application_name (Postgres)", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('application_name');
  });

  afterAll(async () => {
    await db?.drop();
  });

  const nameSeenBy = async (url: string, applicationName?: string): Promise<string> => {
    const prisma = createPrismaClient({
      databaseUrl: url,
      poolSize: 1,
      ...(applicationName !== undefined ? { applicationName } : {}),
    });
    try {
      const rows = await prisma.$queryRaw<{ name: string }[]>`
        SELECT application_name AS name FROM pg_stat_activity WHERE pid = pg_backend_pid()`;
      return rows[0]!.name;
    } finally {
      await prisma.$disconnect();
    }
  };

  it('names the connections after the app, unless the URL names them', async () => {
    expect(await nameSeenBy(db.url, 'roam-scheduler')).toBe('roam-scheduler');
    const url = new URL(db.url);
    url.searchParams.set('application_name', 'from-the-url');
    expect(await nameSeenBy(url.toString(), 'roam-scheduler')).toBe('from-the-url');
    expect(await nameSeenBy(db.url)).toBe('');
  });
});
