import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { createReadStream } from 'node:fs';

import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '@roam/config';
import type { PrismaClient } from '@roam/db';
import { ArchiveRejected, inspectArchive, inputsKey, type ObjectStore } from '@roam/object-store';
import { APP_CONFIG, PRISMA, ProblemError, problemTypes } from '@roam/runtime';

import type {
  FormFile,
  ReceivedFile,
  UploadContext,
  UploadSink,
} from '../compat/jobs-form.parser.js';
import type { TemplateSpec } from '../templates/template.schemas.js';
import { spoolUpload } from './spool.js';
import { OBJECT_STORE } from '@roam/runtime';

/** Problem type of a refused input archive (the `code` says which rule). */
export const INVALID_ARCHIVE = 'https://roam.dev/problems/invalid-inputs-archive';

/** An input archive that passed every check and is in object storage. */
export interface StoredInputs {
  key: string;
  bytes: number;
}

interface Staged {
  dir: string;
  file: string;
  bytes: number;
  filename: string;
  /** SHA-256 of the uploaded bytes, taken as they streamed: what makes two uploads "the same". */
  sha256: string;
}

const MIB = 1024 * 1024;

/**
 * Inputs of a job: the upload sink stages the file part to a temp file while the form is read
 * (never buffered whole, cut off at MAX_FILE_SIZE_MB); `store()` then checks it (a real zip or
 * tar.gz, entry and expanded-size caps, no zip slip, the template's required files) and puts it
 * under `tenants/<t>/jobs/<j>/inputs/`. The temp file is always removed, and a job that is
 * refused afterwards has its object removed by `discard()`, so nothing is left behind.
 */
@Injectable()
export class InputsService implements UploadSink {
  private readonly staged = new Map<string, Staged>();

  constructor(
    @Inject(OBJECT_STORE) private readonly objects: ObjectStore | null,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    @Inject(PRISMA) private readonly prisma: PrismaClient,
  ) {}

  private get maxBytes(): number {
    return Math.floor(this.config.MAX_FILE_SIZE_MB * MIB);
  }

  async accept(context: UploadContext, file: FormFile): Promise<ReceivedFile> {
    const max = this.maxBytes;
    let bytes = 0;
    let over = false;
    const hash = createHash('sha256');
    const cap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes > max) over = true;
        if (!over) hash.update(chunk);
        // Past the cap the rest is read and dropped, so the form can still be parsed to its end.
        done(null, over ? undefined : chunk);
      },
    });
    const { dir, path, discard } = await spoolUpload(file, cap, 'upload');
    if ((file.stream as { truncated?: boolean }).truncated) over = true;
    if (over) {
      await discard();
      throw new ProblemError(
        413,
        problemTypes.tooLarge,
        'Payload too large',
        `uploaded file "${file.filename}" exceeds MAX_FILE_SIZE_MB (${this.config.MAX_FILE_SIZE_MB} MB)`,
        { limit_bytes: max },
      );
    }
    const previous = this.staged.get(context.jobId);
    if (previous) await rm(previous.dir, { recursive: true, force: true });
    this.staged.set(context.jobId, {
      dir,
      file: path,
      bytes,
      filename: file.filename,
      sha256: hash.digest('hex'),
    });
    return { field: file.field, filename: file.filename, bytes, stored: true };
  }

  /** SHA-256 of a job's staged upload (for `Idempotency-Key`), if it has one. */
  digest(jobId: string): string | undefined {
    return this.staged.get(jobId)?.sha256;
  }

  /** Whether a job has a staged upload. */
  has(jobId: string): boolean {
    return this.staged.has(jobId);
  }

  /**
   * Checks the staged archive of `jobId` against the limits and the template's rules and puts
   * it in object storage. `undefined` when nothing was uploaded. Always removes the temp file.
   */
  async store(
    tenantId: string,
    jobId: string,
    templateId: string | undefined,
  ): Promise<StoredInputs | undefined> {
    const staged = this.staged.get(jobId);
    if (!staged) return undefined;
    try {
      if (!this.objects) {
        throw new ProblemError(
          501,
          problemTypes.unavailable,
          'Input uploads are not available',
          'this roam has no object storage configured (S3_ENDPOINT), so input archives cannot be kept',
        );
      }
      const required = await this.requiredInputs(templateId);
      let summary;
      try {
        summary = await inspectArchive(
          staged.file,
          {
            maxEntries: this.config.INPUTS_MAX_ENTRIES,
            maxUncompressedBytes: Math.floor(this.config.INPUTS_MAX_UNCOMPRESSED_MB * MIB),
          },
          required,
        );
      } catch (error) {
        if (!(error instanceof ArchiveRejected)) throw error;
        throw new ProblemError(
          error.code === 'too-large-uncompressed' || error.code === 'too-many-entries' ? 413 : 422,
          INVALID_ARCHIVE,
          'Invalid inputs archive',
          `${staged.filename}: ${error.message}`,
          { code: error.code },
        );
      }
      const key = inputsKey(tenantId, jobId, summary.format);
      await this.objects.put(
        key,
        createReadStream(staged.file),
        staged.bytes,
        summary.format === 'zip' ? 'application/zip' : 'application/gzip',
      );
      return { key, bytes: staged.bytes };
    } finally {
      await this.release(jobId);
    }
  }

  /** Drops a staged upload that will not be used (the form was refused). */
  async release(jobId: string): Promise<void> {
    const staged = this.staged.get(jobId);
    this.staged.delete(jobId);
    if (staged) await rm(staged.dir, { recursive: true, force: true });
  }

  /** Removes a stored archive whose job was then refused (quota, validation). */
  async discard(inputs: StoredInputs | undefined): Promise<void> {
    if (inputs && this.objects) await this.objects.remove(inputs.key);
  }

  private async requiredInputs(templateId: string | undefined): Promise<string[]> {
    if (!templateId) return [];
    const row = await this.prisma.jobTemplate.findUnique({
      where: { id: templateId },
      select: { spec: true },
    });
    return (row?.spec as TemplateSpec | undefined)?.inputs?.required ?? [];
  }
}
