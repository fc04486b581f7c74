import { Prisma } from '@roam/db';
import { SUBMITTED } from '@roam/domain';

import { jobRecordJson, type LedgerDb, type NewJobRecord } from './ledger.js';

const { sql } = Prisma;

/**
 * Element rows a submit creates in its own transaction; an array larger than this gets the rest
 * from `materializeArrayElements`, so a submit of 100,000 elements writes about as much as one
 * of a thousand.
 */
export const ARRAY_SUBMIT_ELEMENTS = 1000;

/** Element rows `materializeArrayElements` creates per statement. */
export const ARRAY_MATERIALIZE_CHUNK = 5000;

/** A new job array: one row in `job_arrays` and `size` element jobs made from one record. */
export interface NewJobArray {
  id: string;
  size: number;
  /** Most elements admitted or running at once; null = no limit beyond the tenant's. */
  parallelism: number | null;
  /** Every element's columns; `id` and `name` are the array's, each element derives its own. */
  element: NewJobRecord;
  /**
   * One value per index, given to its element as `ROAM_ARRAY_ITEM`; `size` of them. `staged`:
   * they were put in this transaction's `roam_array_items` by `stageArrayItems`. An array with
   * items has every element row created at submit (the items are not kept past it).
   */
  items?: readonly string[] | 'staged' | null;
  /**
   * Every element row now, in the submit's transaction, however many: for an array whose
   * elements must exist at once (e.g. one that depends `N_TO_N`, whose elements each carry a
   * dependency count). Otherwise the first `ARRAY_SUBMIT_ELEMENTS` are created now and the
   * rest by the scheduler.
   */
  allElements?: boolean;
}

/**
 * Puts an array's items in a temporary table of the transaction (`roam_array_items`, dropped
 * at commit), a chunk per statement, so a file of 100,000 items is never one parameter nor in
 * memory whole. `submitJobArray` with `items: 'staged'` reads them from there. Returns how many.
 */
export async function stageArrayItems(
  db: Pick<Prisma.TransactionClient, '$executeRaw'>,
  chunks: AsyncIterable<readonly string[]>,
): Promise<number> {
  await db.$executeRaw`CREATE TEMPORARY TABLE roam_array_items (i int PRIMARY KEY, item text NOT NULL)
    ON COMMIT DROP`;
  let count = 0;
  for await (const chunk of chunks) {
    await db.$executeRaw`INSERT INTO roam_array_items (i, item)
      SELECT ${count}::int + (n - 1)::int, item
      FROM unnest(${[...chunk]}::text[]) WITH ORDINALITY AS it(item, n)`;
    count += chunk.length;
  }
  return count;
}

/**
 * The id of element `index` of an array: the array's UUIDv7 with its last 32 bits replaced by
 * the index, so elements sort by index, next to their array in time order.
 */
export const arrayElementId = (arrayId: string, index: number): string =>
  `${arrayId.slice(0, 28)}${index.toString(16).padStart(8, '0')}`;

/** The columns of an element record (`jobRecordJson`) as `jsonb_to_record` reads them. */
const RECORD_COLUMNS = sql`r(
  tenant_id text, name text, queue text, priority int, spec jsonb, labels jsonb, cpu_millis int,
  memory_bytes bigint, gpu int, pod_sets jsonb, offload_preference text, max_attempts int,
  template_id text, group_name text)`;
/**
 * The record's columns by name: a statement with `*` in it is never prepared (it is parsed and
 * planned on every call, docs/architecture.md#direct-sql).
 */
const RECORD_FIELDS = sql`r.tenant_id, r.name, r.queue, r.priority, r.spec, r.labels,
  r.cpu_millis, r.memory_bytes, r.gpu, r.pod_sets, r.offload_preference, r.max_attempts,
  r.template_id, r.group_name`;

/**
 * The element rows of `source` (`array_id`, `size`, `i`, `item` and the record's
 * columns): each a job in state `Submitted` at seq 1 with its first history row,
 * `ROAM_ARRAY_INDEX`, `ROAM_ARRAY_SIZE` and (with an item) `ROAM_ARRAY_ITEM` in its
 * environment, and the id `arrayElementId` gives. Two CTEs, `array_elements` (returning `id`)
 * and `array_history`, for a `WITH` that defines what `source` reads.
 */
const elementInserts = (source: Prisma.Sql) => sql`
  array_elements AS (
    INSERT INTO jobs (id, tenant_id, name, queue, priority, spec, labels, cpu_millis,
                      memory_bytes, gpu, pod_sets, offload_preference, max_attempts,
                      template_id, group_name, array_id, array_index, status, phase, seq, updated_at)
    SELECT (left(s.array_id::text, 28) || lpad(to_hex(s.i), 8, '0'))::uuid, s.tenant_id,
           left(s.name, 55) || '-' || s.i, s.queue, s.priority,
           jsonb_set(s.spec, '{env}', coalesce(s.spec -> 'env', '{}'::jsonb)
             || jsonb_build_object('ROAM_ARRAY_INDEX', s.i::text,
                                   'ROAM_ARRAY_SIZE', s.size::text)
             || CASE WHEN s.item IS NULL THEN '{}'::jsonb
                     ELSE jsonb_build_object('ROAM_ARRAY_ITEM', s.item) END),
           s.labels, s.cpu_millis, s.memory_bytes, s.gpu, s.pod_sets,
           s.offload_preference::"OffloadPreference", s.max_attempts, s.template_id,
           s.group_name, s.array_id, s.i, ${SUBMITTED.status}::"JobStatus", ${SUBMITTED.phase},
           1, now()
    FROM (${source}) AS s
    RETURNING id, tenant_id
  ), array_history AS (
    INSERT INTO job_history (job_id, tenant_id, seq, status, phase)
    SELECT id, tenant_id, 1, ${SUBMITTED.status}::"JobStatus", ${SUBMITTED.phase}
    FROM array_elements
  )`;

/**
 * Inserts an array and its first elements (all of them with `items` or `allElements`, else up
 * to `ARRAY_SUBMIT_ELEMENTS`) in ONE statement, the elements generated by the database
 * (`generate_series`), so no per-element parameter crosses the wire. The array's counters count
 * all `size` elements as submitted from here on; the element rows not created yet are created
 * by `materializeArrayElements`, from the record kept on the array's row. No event per element:
 * elements announce themselves from admission on; the scheduler finds them on its next cycle
 * (docs/architecture.md#rule-3). Inserts nothing and returns 0 when the tenant is missing or
 * being deleted (its row is share-locked meanwhile); else the element rows created.
 */
export async function submitJobArray(db: LedgerDb, array: NewJobArray): Promise<number> {
  const record = JSON.stringify(jobRecordJson(array.element));
  const now =
    array.items || array.allElements ? array.size : Math.min(array.size, ARRAY_SUBMIT_ELEMENTS);
  // The elements' (index, item) pairs, made by the database: no parameter per element.
  const series =
    array.items === 'staged'
      ? sql`SELECT i, item FROM roam_array_items`
      : array.items
        ? sql`SELECT (n - 1)::int AS i, item FROM unnest(${[...array.items]}::text[])
            WITH ORDINALITY AS it(item, n)`
        : sql`SELECT i, NULL::text AS item FROM generate_series(0, ${now - 1}) AS i`;
  const rows = await db.$queryRaw<{ count: bigint }[]>`
    WITH array_tenant AS (
      SELECT id FROM tenants WHERE id = ${array.element.tenantId} AND status <> 'deleting'
      FOR SHARE
    ), array_inserted AS (
      INSERT INTO job_arrays (id, tenant_id, name, size, parallelism, group_name, submitted,
                              materialized, element_record, updated_at)
      SELECT ${array.id}::uuid, r.tenant_id, r.name, ${array.size}, ${array.parallelism}::int,
             r.group_name, ${array.size}, ${now},
             CASE WHEN ${now} < ${array.size} THEN ${record}::jsonb END, now()
      FROM jsonb_to_record(${record}::jsonb) AS ${RECORD_COLUMNS}, array_tenant
      RETURNING id
    ), ${elementInserts(sql`
      SELECT a.id AS array_id, ${array.size}::int AS size, s.i, s.item, ${RECORD_FIELDS}
      FROM array_inserted a, jsonb_to_record(${record}::jsonb) AS ${RECORD_COLUMNS},
           (${series}) AS s`)}
    SELECT count(*) AS count FROM array_elements`;
  return Number(rows[0]?.count ?? 0);
}

/**
 * Creates the next `ARRAY_MATERIALIZE_CHUNK` element rows of the oldest array that still lacks
 * some, in one statement: the array's row is locked (`SKIP LOCKED`, so replicas take different
 * arrays), its tenant share-locked and skipped while being deleted, and `materialized` moves on
 * (the kept record is dropped with the last chunk). Counters do not change: the array counted
 * every element as submitted at submit. Elements cancelled meanwhile are cancelled by the
 * array's cancel walk, which goes on until every element has ended
 * (docs/architecture.md#rule-10). Returns the rows created, 0 when no array lacks any.
 */
export async function materializeArrayElements(
  db: Pick<Prisma.TransactionClient, '$queryRaw'>,
  chunk = ARRAY_MATERIALIZE_CHUNK,
): Promise<{ arrayId: string; created: number } | null> {
  const rows = await db.$queryRaw<{ id: string | null; count: bigint }[]>`
    WITH next AS (
      SELECT a.id, a.tenant_id, a.size, a.materialized,
             least(a.size, a.materialized + ${chunk}::int) AS upto, a.element_record
      FROM job_arrays a
      WHERE a.materialized < a.size
        AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = a.tenant_id AND t.status <> 'deleting')
      ORDER BY a.created_at
      LIMIT 1
      FOR UPDATE OF a SKIP LOCKED
    ), array_tenant AS (
      SELECT t.id FROM tenants t, next n
      WHERE t.id = n.tenant_id AND t.status <> 'deleting'
      FOR SHARE OF t
    ), advanced AS (
      UPDATE job_arrays a SET materialized = n.upto,
             element_record = CASE WHEN n.upto < n.size THEN a.element_record END
      FROM next n, array_tenant
      WHERE a.id = n.id
    ), ${elementInserts(sql`
      SELECT n.id AS array_id, n.size, s.i, NULL::text AS item, ${RECORD_FIELDS}
      FROM next n, array_tenant, jsonb_to_record(n.element_record) AS ${RECORD_COLUMNS},
           generate_series(n.materialized, n.upto - 1) AS s(i)`)}
    SELECT (SELECT id::text FROM next) AS id, (SELECT count(*) FROM array_elements) AS count`;
  const row = rows[0];
  if (!row?.id) return null;
  return { arrayId: row.id, created: Number(row.count) };
}
