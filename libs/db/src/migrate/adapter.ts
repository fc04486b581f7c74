import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import type {
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { dropDatabase, quoteIdent, withClient, withDatabase } from './database-url.js';

// Postgres type OIDs: the one-byte internal `"char"` and `text`.
const CHAR_OID = 18;
const TEXT_OID = 25;

/**
 * The driver-adapter factory the wasm schema engine talks to, built on @prisma/adapter-pg with
 * the workarounds its 7.10.0 release needs on the migration path:
 *
 * 1. adapter-pg does not map the `"char"` type, which the engine's catalog queries return
 *    (`pg_class.relkind`, `pg_constraint.contype`…), and fails with UnsupportedNativeDataType.
 *    Our pg client relabels those columns as `text` before adapter-pg sees them.
 * 2. Its `connectToShadowDb` spreads `{ database }` over a `connectionString` config, and pg
 *    lets the connection string win: the "shadow" pool is the main database. We create the
 *    shadow database ourselves and point a pool at it by URL.
 * 3. It drops the shadow database before ending the shadow pool, which fails while the pool is
 *    still connected. We end the pool first, then drop (with FORCE).
 * 4. Its `executeScript` splits scripts on every `;`, even inside strings and dollar-quoted
 *    bodies. We send the script whole, as the native engine does (simple query protocol).
 *
 * Errors thrown by our code reach the engine only as an opaque id, so the last one is kept
 * for the caller's error message.
 */
export class MigrationAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres';
  readonly adapterName = '@prisma/adapter-pg';
  lastError: unknown;
  private readonly shadows = new Set<string>();
  private readonly pools = new Set<pg.Pool>();

  constructor(
    /** Where `connect()` goes; for a pure diff this is never written to. */
    private readonly mainUrl: string,
    /** Any database on the server that may host shadow databases. */
    private readonly serverUrl: string,
  ) {}

  connect(): Promise<SqlDriverAdapter> {
    return this.open(this.mainUrl);
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const name = `roam_shadow_${randomUUID().replace(/-/g, '')}`;
    await withClient(withDatabase(this.serverUrl, 'postgres'), (client) =>
      client.query(`CREATE DATABASE ${quoteIdent(name)}`),
    );
    this.shadows.add(name);
    return this.open(withDatabase(this.serverUrl, name), () => this.dropShadow(name));
  }

  /**
   * Ends every pool and drops every shadow database the engine left behind: freeing the engine
   * does not dispose its connections, and a failed diff may skip the shadow's dispose.
   */
  async close(): Promise<void> {
    for (const pool of [...this.pools]) await this.endPool(pool);
    for (const name of [...this.shadows]) await this.dropShadow(name);
  }

  private async endPool(pool: pg.Pool): Promise<void> {
    if (this.pools.delete(pool)) await pool.end();
  }

  private async dropShadow(name: string): Promise<void> {
    if (!this.shadows.delete(name)) return;
    await dropDatabase(this.serverUrl, name);
  }

  private async open(url: string, afterDispose?: () => Promise<void>): Promise<SqlDriverAdapter> {
    const pool = new pg.Pool({ connectionString: url, max: 2, Client: CharAsTextClient });
    this.pools.add(pool);
    const adapter = await new PrismaPg(pool).connect();
    return Object.assign(adapter, {
      executeScript: async (script: string): Promise<void> => {
        try {
          await pool.query(script);
        } catch (err) {
          this.lastError = err;
          throw err;
        }
      },
      dispose: async (): Promise<void> => {
        await this.endPool(pool);
        await afterDispose?.();
      },
    });
  }
}

type QueryFn = (this: pg.Client, ...args: unknown[]) => unknown;

/** A pg client that reports `"char"` result columns as `text` (workaround 1 above). */
class CharAsTextClient extends pg.Client {}

// Taken unbound on purpose: it is always called with the subclass instance as `this`.
const clientQuery = Reflect.get(pg.Client.prototype, 'query') as QueryFn;
(CharAsTextClient.prototype as unknown as { query: QueryFn }).query = function query(
  this: pg.Client,
  ...args
) {
  const callback = args.at(-1);
  if (typeof callback === 'function') {
    args[args.length - 1] = (err: unknown, result: unknown) => {
      if (!err) relabelCharColumns(result);
      (callback as (err: unknown, result: unknown) => void)(err, result);
    };
    return clientQuery.apply(this, args);
  }
  const returned = clientQuery.apply(this, args);
  if (returned instanceof Promise) {
    return returned.then((result: unknown) => {
      relabelCharColumns(result);
      return result;
    });
  }
  return returned;
};

function relabelCharColumns(result: unknown): void {
  for (const one of Array.isArray(result) ? result : [result]) {
    const fields = (one as { fields?: unknown } | null)?.fields;
    if (!Array.isArray(fields)) continue;
    for (const field of fields as { dataTypeID?: number }[]) {
      if (field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
    }
  }
}
