import { PassThrough, Readable } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type PrismaClient } from '@roam/db';
import type { ObjectStore } from '@roam/object-store';
import { OBJECT_STORE, PRISMA, ProblemError, problemTypes } from '@roam/runtime';
import yazl from 'yazl';

/** Jobs read per query while an index or archive streams. */
const PAGE = 1000;

/** Most files one archive may hold (its central directory is kept until the end). */
export const ARCHIVE_MAX_FILES = 200_000;

interface MemberRow {
  array_index: number | null;
  id: string;
  name: string;
  status: string;
  exit_code: number | null;
  started_at: Date | null;
  finished_at: Date | null;
  files: { path: string; size: string; key: string; at: string }[];
}

/**
 * The jobs an index or archive covers, within one tenant: an array's elements or a group's jobs.
 * They are read in keyset order on a column unique within the set and indexed with it.
 */
interface JobSet {
  /** `array <id>` or `group <name>`, for errors. */
  label: string;
  exists(prisma: PrismaClient, tenantId: string): Promise<boolean>;
  /** Which rows of `jobs j` belong to the set (the tenant's condition is added). */
  members: Prisma.Sql;
  /** The keyset column, and the condition for the rows after `row` in it. */
  order: Prisma.Sql;
  after(row: MemberRow): Prisma.Sql;
  /** The CSV's first column (header and value) and a job's folder in the zip. */
  column: string;
  key(row: MemberRow): string;
  folder(row: MemberRow): string;
}

/** An array's elements, by index: `<index>/` in the zip. */
export const arraySet = (id: string): JobSet => ({
  label: `array ${id}`,
  exists: async (prisma, tenantId) =>
    (await prisma.jobArray.count({ where: { id, tenantId } })) > 0,
  members: Prisma.sql`j.array_id = ${id}::uuid`,
  order: Prisma.sql`j.array_index`,
  after: (row) => Prisma.sql`j.array_index > ${row.array_index}`,
  column: 'index',
  key: (row) => String(row.array_index),
  folder: (row) => String(row.array_index),
});

/** A group's jobs (array elements among them), by id: `<job name>-<job id>/` in the zip. */
export const groupSet = (name: string): JobSet => ({
  label: `group ${name}`,
  exists: async (prisma, tenantId) =>
    (await prisma.jobGroup.count({ where: { tenantId, name } })) > 0,
  members: Prisma.sql`j.group_name = ${name}`,
  order: Prisma.sql`j.id`,
  after: (row) => Prisma.sql`j.id > ${row.id}::uuid`,
  column: 'name',
  key: (row) => row.name,
  folder: (row) => `${row.name}-${row.id}`,
});

const csvField = (value: string): string =>
  /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;

/**
 * Results together for a set of jobs (an array or a group): a CSV index (one row per job: its
 * key, job id, status, exit code, duration, result files) and one zip of every job's results
 * under its folder. Both stream, reading the jobs `PAGE` at a time in keyset order; a zip
 * entry's file is opened from object storage only when the archive reaches it.
 */
@Injectable()
export class ResultsTogetherService {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
  ) {}

  private async assertExists(tenantId: string, set: JobSet): Promise<void> {
    if (!(await set.exists(this.prisma, tenantId)))
      throw new ProblemError(404, problemTypes.notFound, 'Not found', `${set.label} not found`);
  }

  private page(tenantId: string, set: JobSet, after: Prisma.Sql): Promise<MemberRow[]> {
    return this.prisma.$queryRaw<MemberRow[]>`
      SELECT j.array_index, j.id::text AS id, j.name, j.status::text AS status, j.exit_code,
             j.started_at, j.finished_at,
             coalesce((
               SELECT jsonb_agg(jsonb_build_object('path', r.path, 'size', r.size::text,
                                'key', r.storage_key, 'at', r.created_at) ORDER BY r.path)
               FROM result_files r WHERE r.job_id = j.id AND r.tenant_id = ${tenantId}
             ), '[]'::jsonb) AS files
      FROM jobs j
      WHERE j.tenant_id = ${tenantId} AND ${set.members} AND ${after}
      ORDER BY ${set.order}
      LIMIT ${PAGE}`;
  }

  private async *members(tenantId: string, set: JobSet): AsyncGenerator<MemberRow> {
    let after = Prisma.sql`TRUE`;
    for (;;) {
      const rows = await this.page(tenantId, set, after);
      yield* rows;
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) return;
      after = set.after(last);
    }
  }

  /** The CSV index, streamed; 404 for another tenant's or an unknown array or group. */
  async index(tenantId: string, set: JobSet): Promise<Readable> {
    await this.assertExists(tenantId, set);
    const members = this.members(tenantId, set);
    async function* lines(): AsyncGenerator<string> {
      yield `${set.column},job_id,status,exit_code,duration_seconds,result_files\r\n`;
      for await (const job of members) {
        const duration =
          job.started_at && job.finished_at
            ? ((job.finished_at.getTime() - job.started_at.getTime()) / 1000).toFixed(3)
            : '';
        const files = job.files.map((f) => f.path).join(';');
        yield `${set.key(job)},${job.id},${job.status},${job.exit_code ?? ''},${duration},${csvField(files)}\r\n`;
      }
    }
    return Readable.from(lines());
  }

  /**
   * Every job's results in one zip under `<folder>/<path>`, streamed. 413 when the set has more
   * than `ARCHIVE_MAX_FILES` files, 503 without object storage.
   */
  async zip(tenantId: string, set: JobSet): Promise<Readable> {
    await this.assertExists(tenantId, set);
    const store = this.store;
    if (!store)
      throw new ProblemError(
        503,
        problemTypes.unavailable,
        'Results storage unavailable',
        'no object storage (S3_ENDPOINT) is configured',
      );
    const [{ files }] = await this.prisma.$queryRaw<[{ files: bigint }]>`
      SELECT count(*) AS files FROM result_files r JOIN jobs j ON j.id = r.job_id
      WHERE j.tenant_id = ${tenantId} AND ${set.members}`;
    if (Number(files) > ARCHIVE_MAX_FILES)
      throw new ProblemError(
        413,
        problemTypes.tooLarge,
        'Payload too large',
        `${set.label} has ${files} result files; one archive holds at most ${ARCHIVE_MAX_FILES} (download them per job)`,
      );
    const zip = new yazl.ZipFile();
    const out = new PassThrough();
    zip.outputStream.pipe(out);
    // Entries are added a page at a time; each file is opened only when the archive reaches it.
    void (async () => {
      for await (const job of this.members(tenantId, set)) {
        for (const file of job.files) {
          zip.addReadStreamLazy(
            `${set.folder(job)}/${file.path}`,
            { size: Number(file.size), mtime: new Date(file.at) },
            (done) => {
              store.get(file.key).then(
                (stream) => done(null, stream),
                (error: unknown) => done(error, undefined as unknown as NodeJS.ReadableStream),
              );
            },
          );
        }
      }
      zip.end();
    })().catch((error: unknown) => out.destroy(error as Error));
    return out;
  }
}
