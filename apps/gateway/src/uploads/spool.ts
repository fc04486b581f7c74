import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { ProblemError, problemTypes } from '@roam/runtime';

import type { FormFile } from '../compat/jobs-form.parser.js';

/** An upload written to a temp file of its own; `discard()` removes it. */
export interface Spooled {
  dir: string;
  path: string;
  discard: () => Promise<void>;
}

/**
 * Streams an upload's part through `check` (which counts, hashes and refuses as it goes, and
 * must read a refused part to its end so the form still parses) into a new temp file. A body
 * that stops short is a 400 and leaves nothing behind.
 */
export async function spoolUpload(
  file: FormFile,
  check: Transform,
  name: string,
): Promise<Spooled> {
  // busboy destroys the part with "Unexpected end of form" when the body stops short, maybe
  // before the pipeline below is attached: the pipeline reports it, this keeps it handled.
  file.stream.on('error', () => undefined);
  const dir = await mkdtemp(join(tmpdir(), `roam-${name}-`));
  const path = join(dir, name);
  const discard = () => rm(dir, { recursive: true, force: true });
  try {
    await pipeline(file.stream, check, createWriteStream(path));
  } catch (error) {
    await discard();
    throw new ProblemError(
      400,
      problemTypes.malformed,
      'Malformed request body',
      `the upload "${file.filename}" ended early: ${(error as Error).message}`,
    );
  }
  return { dir, path, discard };
}
