import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import { ARRAY_ITEM_MAX_LENGTH } from '@roam/contracts';
import { APP_CONFIG, ProblemError } from '@roam/runtime';

import type {
  FormFile,
  ReceivedFile,
  UploadContext,
  UploadSink,
} from '../compat/jobs-form.parser.js';
import {
  type ArrayItemsFormat,
  formatOfFilename,
  ItemsReader,
  ItemsRejected,
} from './array-items.js';
import { spoolUpload } from './spool.js';

/** Problem type of a refused items file (`line` names the first bad row). */
export const INVALID_ITEMS = 'https://roam.dev/problems/invalid-array-items';

/** Items inserted per statement when they are staged for an array's insert. */
export const ITEMS_CHUNK = 5_000;

/** A checked items file on local disk: one item per line, `count` of them. */
export interface StagedItems {
  count: number;
  format: ArrayItemsFormat;
  /** A CSV file's header row (`ROAM_ARRAY_COLUMNS`). */
  columns: string | undefined;
  filename: string;
  sha256: string;
  file: string;
  dir: string;
}

const CONTENT_TYPES: Record<string, ArrayItemsFormat> = {
  'text/csv': 'csv',
  'application/jsonl': 'jsonl',
  'application/x-ndjson': 'jsonl',
  'application/x-jsonlines': 'jsonl',
};

/**
 * The `items` file of an array upload: one element's `ROAM_ARRAY_ITEM` per row, as plain lines,
 * CSV (a header row, then one row per element) or JSON lines; the file's name (`.csv`,
 * `.jsonl`) or content type says which. It is checked row by row as it streams (row length,
 * row count up to `ARRAY_MAX_SIZE`, CSV fields, JSON) and staged to a temp file, never held in
 * memory whole; `chunks()` then reads it back `ITEMS_CHUNK` items at a time.
 */
@Injectable()
export class ArrayItemsService implements UploadSink {
  private readonly staged = new Map<string, StagedItems>();

  constructor(@Inject(APP_CONFIG) private readonly config: GatewayConfig) {}

  async accept(context: UploadContext, file: FormFile): Promise<ReceivedFile> {
    const format = CONTENT_TYPES[file.mimeType.toLowerCase()] ?? formatOfFilename(file.filename);
    const reader = new ItemsReader(format, {
      maxLength: ARRAY_ITEM_MAX_LENGTH,
      maxCount: this.config.ARRAY_MAX_SIZE,
    });
    const hash = createHash('sha256');
    let bytes = 0;
    let rejected: ItemsRejected | undefined;
    const check = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        // After the first bad row the rest is read and dropped, so the form still parses.
        if (rejected) return done();
        hash.update(chunk);
        try {
          done(null, reader.write(chunk));
        } catch (error) {
          if (!(error instanceof ItemsRejected)) return done(error as Error);
          rejected = error;
          done();
        }
      },
      flush(done) {
        if (rejected) return done();
        try {
          done(null, reader.end());
        } catch (error) {
          if (!(error instanceof ItemsRejected)) return done(error as Error);
          rejected = error;
          done();
        }
      },
    });
    const { dir, path, discard } = await spoolUpload(file, check, 'items');
    if (rejected) {
      await discard();
      throw new ProblemError(
        422,
        INVALID_ITEMS,
        'Invalid array items',
        `${file.filename} (${format}): ${rejected.message}`,
        { format, ...(rejected.line !== undefined ? { line: rejected.line } : {}) },
      );
    }
    await this.release(context.jobId);
    this.staged.set(context.jobId, {
      count: reader.count,
      format,
      columns: reader.columns,
      filename: file.filename,
      sha256: hash.digest('hex'),
      file: path,
      dir,
    });
    return { field: file.field, filename: file.filename, bytes, stored: true };
  }

  /** The staged items of an upload, if it had an items file. */
  get(key: string): StagedItems | undefined {
    return this.staged.get(key);
  }

  /** The staged items, `ITEMS_CHUNK` at a time, in index order. */
  async *chunks(items: StagedItems): AsyncGenerator<string[]> {
    const lines = createInterface({ input: createReadStream(items.file), crlfDelay: Infinity });
    let chunk: string[] = [];
    for await (const line of lines) {
      chunk.push(line);
      if (chunk.length === ITEMS_CHUNK) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  /** Removes an upload's staged items (always, once its request is answered). */
  async release(key: string): Promise<void> {
    const staged = this.staged.get(key);
    this.staged.delete(key);
    if (staged) await rm(staged.dir, { recursive: true, force: true });
  }
}
