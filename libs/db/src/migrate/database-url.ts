import pg from 'pg';

/** The database named by a connection URL (its path), e.g. `roam` in `postgresql://h/roam`. */
export function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (name === '') throw new Error(`database URL names no database: ${redactUrl(databaseUrl)}`);
  return name;
}

/** The same server and credentials, another database. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** The URL without its password, for logs and error messages. */
export function redactUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '<unparseable database URL>';
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Runs `fn` with one connection to `databaseUrl`, always closing it. */
export async function withClient<T>(
  databaseUrl: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot connect to Postgres at ${redactUrl(databaseUrl)}: ${describe(err)}`, {
      cause: err,
    });
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';

/**
 * Creates the database unless it exists, through the server's `postgres` maintenance database.
 * Two processes may race here; the loser sees duplicate_database (or, when both inserted into
 * pg_database at once, a unique violation on its name index) and that means "exists".
 */
export async function ensureDatabase(
  databaseUrl: string,
  maintenanceDb = 'postgres',
): Promise<boolean> {
  const name = databaseName(databaseUrl);
  return withClient(withDatabase(databaseUrl, maintenanceDb), async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount !== 0) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      return true;
    } catch (err) {
      if (pgCode(err) === DUPLICATE_DATABASE || pgCode(err) === UNIQUE_VIOLATION) return false;
      throw err;
    }
  });
}

/** Drops a database, ending its other sessions first (a test's leaked pool must not block it). */
export async function dropDatabase(
  serverUrl: string,
  name: string,
  maintenanceDb = 'postgres',
): Promise<void> {
  await withClient(withDatabase(serverUrl, maintenanceDb), async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  });
}

export function pgCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code: unknown = err.code;
  return typeof code === 'string' ? code : undefined;
}

export function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0)
    return err.errors.map(describe).join('; ');
  return err instanceof Error ? err.message : String(err);
}
