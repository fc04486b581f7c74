import { PassThrough, Readable } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import type { ObjectStore } from '@roam/object-store';
import { OBJECT_STORE, PRISMA, ProblemError, problemTypes } from '@roam/runtime';
import yazl from 'yazl';

/** Elements read per query while an index or archive streams. */
const PAGE = 1000;

/** Most files one array's archive may hold (its central directory is kept until the end). */
export const ARCHIVE_MAX_FILES = 200_000;

interface ElementRow {
  array_index: number;
  id: string;
  status: string;
  exit_code: number | null;
  started_at: Date | null;
  finished_at: Date | null;
  files: { path: string; size: string; key: string; at: string }[];
}

const csvField = (value: string): string =>
  /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;

/**
 * An array's elements and results together: a CSV index (one row per element: index, job id,
 * status, exit code, duration, result files) and one zip of every element's results under
 * `<index>/`. Both stream, reading the elements `PAGE` at a time by index; a zip entry's file is
 * opened from object storage only when the archive reaches it.
 */
@Injectable()
export class ArrayResultsService {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore | null,
  ) {}

  private async assertArray(tenantId: string, id: string): Promise<void> {
    const found = await this.prisma.jobArray.findFirst({
      where: { id, tenantId },
      select: { id: true },
    });
    if (!found)
      throw new ProblemError(404, problemTypes.notFound, 'Not found', `array ${id} not found`);
  }

  private page(tenantId: string, id: string, after: number): Promise<ElementRow[]> {
    return this.prisma.$queryRaw<ElementRow[]>`
      SELECT j.array_index, j.id::text AS id, j.status::text AS status, j.exit_code,
             j.started_at, j.finished_at,
             coalesce((
               SELECT jsonb_agg(jsonb_build_object('path', r.path, 'size', r.size::text,
                                'key', r.storage_key, 'at', r.created_at) ORDER BY r.path)
               FROM result_files r WHERE r.job_id = j.id AND r.tenant_id = ${tenantId}
             ), '[]'::jsonb) AS files
      FROM jobs j
      WHERE j.tenant_id = ${tenantId} AND j.array_id = ${id}::uuid AND j.array_index > ${after}
      ORDER BY j.array_index
      LIMIT ${PAGE}`;
  }

  private async *elements(tenantId: string, id: string): AsyncGenerator<ElementRow> {
    let after = -1;
    for (;;) {
      const rows = await this.page(tenantId, id, after);
      yield* rows;
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) return;
      after = last.array_index;
    }
  }

  /** The CSV index, streamed; 404 for another tenant's or an unknown array. */
  async index(tenantId: string, id: string): Promise<Readable> {
    await this.assertArray(tenantId, id);
    const elements = this.elements(tenantId, id);
    async function* lines(): AsyncGenerator<string> {
      yield 'index,job_id,status,exit_code,duration_seconds,result_files\r\n';
      for await (const e of elements) {
        const duration =
          e.started_at && e.finished_at
            ? ((e.finished_at.getTime() - e.started_at.getTime()) / 1000).toFixed(3)
            : '';
        const files = e.files.map((f) => f.path).join(';');
        yield `${e.array_index},${e.id},${e.status},${e.exit_code ?? ''},${duration},${csvField(files)}\r\n`;
      }
    }
    return Readable.from(lines());
  }

  /**
   * Every element's results in one zip under `<index>/<path>`, streamed. 413 when the array has
   * more than `ARCHIVE_MAX_FILES` files, 503 without object storage.
   */
  async zip(tenantId: string, id: string): Promise<Readable> {
    await this.assertArray(tenantId, id);
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
      WHERE j.tenant_id = ${tenantId} AND j.array_id = ${id}::uuid`;
    if (Number(files) > ARCHIVE_MAX_FILES)
      throw new ProblemError(
        413,
        problemTypes.tooLarge,
        'Payload too large',
        `array ${id} has ${files} result files; one archive holds at most ${ARCHIVE_MAX_FILES} (download them per element)`,
      );
    const zip = new yazl.ZipFile();
    const out = new PassThrough();
    zip.outputStream.pipe(out);
    // Entries are added a page at a time; each file is opened only when the archive reaches it.
    void (async () => {
      for await (const e of this.elements(tenantId, id)) {
        for (const file of e.files) {
          zip.addReadStreamLazy(
            `${e.array_index}/${file.path}`,
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
