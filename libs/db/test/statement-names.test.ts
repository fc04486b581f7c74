import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@roam/testing';
import pg from 'pg';

import { hasStableResultShape, statementNames } from '../src/index.js';

describe('statement names', () => {
  it('names only statements whose result columns no migration can change', () => {
    expect(hasStableResultShape('SELECT id, name FROM jobs WHERE id = $1')).toBe(true);
    expect(hasStableResultShape('SELECT count(*)::int AS n FROM jobs')).toBe(true);
    expect(hasStableResultShape('SELECT COUNT( * ) FROM jobs')).toBe(true);
    expect(hasStableResultShape('SELECT * FROM jobs')).toBe(false);
    expect(hasStableResultShape('INSERT INTO jobs (id) VALUES ($1) RETURNING *')).toBe(false);
    expect(hasStableResultShape('SELECT j.* FROM jobs j')).toBe(false);
    expect(hasStableResultShape('SELECT count(*), * FROM jobs GROUP BY id')).toBe(false);
    // A `*` in a string literal or a comment is not SQL; one after them still counts.
    expect(hasStableResultShape("SELECT id FROM w WHERE '*' = ANY(events) OR 'a.*' = x")).toBe(
      true,
    );
    expect(hasStableResultShape("SELECT id FROM w WHERE 'it''s *' = x -- or *\n/* * */")).toBe(
      true,
    );
    expect(hasStableResultShape("SELECT '*' AS star, * FROM jobs")).toBe(false);
    expect(hasStableResultShape('SELECT id -- note\n, * FROM jobs')).toBe(false);
    // Quotes of every kind end where Postgres ends them: a star after one still counts.
    for (const sql of [
      "SELECT E'\\'', * FROM jobs WHERE a = 'x'",
      "SELECT $$it's$$, * FROM jobs WHERE a = 'x'",
      "SELECT $q$it's$q$, * FROM jobs WHERE a = 'x'",
      `SELECT "o'k", * FROM jobs WHERE a = 'x'`,
      'SELECT "a--b", * FROM jobs',
      'SELECT 1 AS "/*", * FROM jobs -- */',
      "SELECT 'unterminated, * FROM jobs",
    ])
      expect([sql, hasStableResultShape(sql)]).toEqual([sql, false]);
    expect(hasStableResultShape(`SELECT "a*b", $$*$$, E'\\'*' FROM t WHERE x = $1`)).toBe(true);
  });

  it('gives the same text the same name everywhere, distinct texts distinct names', () => {
    const a = statementNames();
    const b = statementNames();
    const text = 'SELECT id FROM jobs WHERE id = $1';
    expect(a({ sql: text })).toMatch(/^roam_[0-9a-f]{40}$/);
    expect(a({ sql: text })).toBe(b({ sql: text }));
    expect(a({ sql: 'SELECT name FROM jobs WHERE id = $1' })).not.toBe(a({ sql: text }));
    expect(a({ sql: 'SELECT * FROM jobs' })).toBe('');
  });

  it('stops naming new statements at its capacity, keeping the names it gave', () => {
    const name = statementNames(2);
    const first = name({ sql: 'SELECT 1 AS a' });
    const second = name({ sql: 'SELECT 2 AS a' });
    expect(name({ sql: 'SELECT 3 AS a' })).toBe('');
    expect(name({ sql: 'SELECT 1 AS a' })).toBe(first);
    expect(name({ sql: 'SELECT 2 AS a' })).toBe(second);
  });
});

describe('a prepared `SELECT *` across a migration (Postgres)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('statement_names');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('fails once a column is added: the statements left unnamed', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const query = { name: 'star', text: 'SELECT * FROM jobs LIMIT 1' };
      await client.query(query);
      await db.prisma.$executeRawUnsafe(`ALTER TABLE jobs ADD COLUMN another_column int`);
      await expect(client.query(query)).rejects.toThrow('cached plan must not change result type');
    } finally {
      await client.end();
    }
  });
});
