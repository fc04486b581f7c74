import { afterEach, describe, expect, it } from '@jest/globals';
import { createTestDatabase } from '../../testing/src/database.js';

describe('createTestDatabase without a server', () => {
  const saved = process.env['TEST_DATABASE_URL'];
  afterEach(() => {
    if (saved === undefined) delete process.env['TEST_DATABASE_URL'];
    else process.env['TEST_DATABASE_URL'] = saved;
  });

  it('fails with a message that names the server and the variable', async () => {
    // Port 1 is never a Postgres server, so the connection is refused at once.
    process.env['TEST_DATABASE_URL'] = 'postgresql://postgres@127.0.0.1:1/postgres';

    await expect(createTestDatabase('unreachable')).rejects.toThrow(
      /cannot reach Postgres at postgresql:\/\/postgres@127\.0\.0\.1:1\/postgres \(.*ECONNREFUSED.*\).*TEST_DATABASE_URL/,
    );
  });
});
