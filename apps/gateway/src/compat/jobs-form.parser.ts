import type { Readable } from 'node:stream';

import { ProblemError, problemTypes, unstorable } from '@roam/runtime';
import busboy from 'busboy';
import type { Request } from 'express';

/** One file part of a form, as a stream: it is never buffered whole. */
export interface FormFile {
  field: string;
  filename: string;
  mimeType: string;
  stream: Readable;
}

/** Who the upload belongs to, so a sink can key what it stores. */
export interface UploadContext {
  tenantId: string;
  jobId: string;
}

/** What became of an uploaded file; `stored` is false when it was only read and dropped. */
export interface ReceivedFile {
  field: string;
  filename: string;
  bytes: number;
  stored: boolean;
  /** Where a storing sink put it (an object-storage key), when it did. */
  location?: string;
}

/**
 * Where uploaded files go. The inputs work provides one that streams the zip to object storage
 * (bind it to `JOB_UPLOAD_SINK`); until then uploads are drained and dropped.
 */
export interface UploadSink {
  accept(context: UploadContext, file: FormFile): Promise<ReceivedFile>;
}

export const JOB_UPLOAD_SINK = Symbol('JOB_UPLOAD_SINK');

/** Reads a file to its end and keeps nothing, so the rest of the form can be parsed. */
export const drainingSink: UploadSink = {
  async accept(_context, file) {
    let bytes = 0;
    for await (const chunk of file.stream) bytes += (chunk as Buffer).length;
    return { field: file.field, filename: file.filename, bytes, stored: false };
  },
};

export interface FormLimits {
  /** Largest single field value. */
  fieldBytes: number;
  fields: number;
  files: number;
  fileBytes: number;
}

export interface ParsedForm {
  fields: Record<string, string>;
  files: ReceivedFile[];
}

const tooLarge = (detail: string) =>
  new ProblemError(413, problemTypes.tooLarge, 'Payload too large', detail);

/**
 * Streams a `multipart/form-data` or `application/x-www-form-urlencoded` body through busboy:
 * fields are collected (small, limited), files go to `sink` as they arrive. Any limit crossed
 * is a 413; a malformed body a 400. On failure the rest of the body is discarded so the error
 * response can be sent on a clean connection.
 */
export function parseForm(
  request: Request,
  context: UploadContext,
  sink: UploadSink,
  limits: FormLimits,
): Promise<ParsedForm> {
  return new Promise<ParsedForm>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: request.headers,
        limits: {
          fieldSize: limits.fieldBytes,
          fields: limits.fields,
          files: limits.files,
          fileSize: limits.fileBytes,
          parts: limits.fields + limits.files,
        },
      });
    } catch (error) {
      reject(
        new ProblemError(
          400,
          problemTypes.malformed,
          'Malformed request body',
          `cannot read the form: ${(error as Error).message}`,
        ),
      );
      return;
    }
    const fields: Record<string, string> = {};
    const uploads: Promise<ReceivedFile>[] = [];
    let failed = false;
    const fail = (error: ProblemError): void => {
      if (failed) return;
      failed = true;
      request.unpipe(parser);
      request.resume();
      reject(error);
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated || info.nameTruncated) {
        fail(tooLarge(`form field "${name}" exceeds ${limits.fieldBytes} bytes`));
        return;
      }
      // Fields end up in Postgres text and jsonb, which cannot hold NUL.
      if (name.includes('\u0000') || value.includes('\u0000')) {
        fail(unstorable(`form field "${name.replaceAll('\u0000', '')}" holds a NUL character`));
        return;
      }
      fields[name] = value;
    });
    parser.on('file', (field, stream, info) => {
      if (field.includes('\u0000') || info.filename?.includes('\u0000')) {
        stream.resume();
        fail(unstorable("an uploaded file's field or file name holds a NUL character"));
        return;
      }
      stream.once('limit', () =>
        fail(tooLarge(`uploaded file "${info.filename}" exceeds ${limits.fileBytes} bytes`)),
      );
      const upload = sink.accept(context, {
        field,
        filename: info.filename ?? field,
        mimeType: info.mimeType,
        stream,
      });
      // Rejections are reported through `fail` below; this keeps Node from calling one unhandled.
      upload.catch(() => undefined);
      uploads.push(upload);
    });
    parser.on('fieldsLimit', () =>
      fail(tooLarge(`a form may have at most ${limits.fields} fields`)),
    );
    parser.on('filesLimit', () => fail(tooLarge(`a form may have at most ${limits.files} files`)));
    parser.on('partsLimit', () =>
      fail(tooLarge(`a form may have at most ${limits.fields + limits.files} parts`)),
    );
    parser.on('error', (error: Error) =>
      fail(
        new ProblemError(
          400,
          problemTypes.malformed,
          'Malformed request body',
          `cannot read the form: ${error.message}`,
        ),
      ),
    );
    parser.on('close', () => {
      Promise.all(uploads).then(
        (files) => {
          if (!failed) resolve({ fields, files });
        },
        (error: unknown) => {
          // A sink that fails (object storage down) is the server's problem, not the form's.
          if (error instanceof ProblemError) fail(error);
          else if (!failed) {
            failed = true;
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        },
      );
    });
    // A client that goes away mid-body never ends the request: without this the form (and the
    // upload staging it) would wait forever. Destroying the parser fails the file part too.
    request.once('close', () => {
      if (!request.complete)
        parser.destroy(new Error('the client closed the request before its end'));
    });
    request.pipe(parser);
  });
}
