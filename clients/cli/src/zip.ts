import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

import { ZipFile } from 'yazl';

/** Zips every file under `dir` (paths relative to it) into memory. */
export async function zipDirectory(dir: string): Promise<Buffer> {
  const zip = new ZipFile();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  let count = 0;
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    zip.addFile(path, relative(dir, path).split(sep).join('/'));
    count += 1;
  }
  if (count === 0) throw new Error(`${dir} holds no files to upload`);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
