import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import yauzl from 'yauzl';

/** Default bound on the bytes `roam results get -d` unpacks (compressed and uncompressed). */
export const DEFAULT_UNPACK_LIMIT = 1024 * 1024 * 1024;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/**
 * The path an entry unpacks to inside `root`, or an error for a name that would escape it
 * (absolute, drive-lettered, backslashed or `..`).
 */
function target(root: string, name: string): string {
  if (
    !name ||
    isAbsolute(name) ||
    /^[a-zA-Z]:/.test(name) ||
    name.includes('\\') ||
    name.includes('\0') ||
    name.split('/').some((part) => part === '..')
  )
    throw new Error(`refusing to unpack ${JSON.stringify(name)}: it points outside the directory`);
  const path = resolve(root, name);
  if (path !== root && !path.startsWith(root + sep))
    throw new Error(`refusing to unpack ${JSON.stringify(name)}: it points outside the directory`);
  return path;
}

/**
 * Unpacks a zip archive held in memory into `dir` (created if missing). Only plain files and
 * directories are written: symlinks and other special entries are refused, existing files are
 * never overwritten, and the total uncompressed size is bounded by `limit`. Returns the number
 * of files and bytes written.
 */
export async function unpackZip(
  zip: Buffer,
  dir: string,
  limit = DEFAULT_UNPACK_LIMIT,
): Promise<{ files: number; bytes: number }> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const archive = await new Promise<yauzl.ZipFile>((ok, fail) =>
    yauzl.fromBuffer(zip, { lazyEntries: true, strictFileNames: true }, (error, file) =>
      error ? fail(error) : ok(file),
    ),
  );
  let files = 0;
  let bytes = 0;
  try {
    for (;;) {
      const entry = await new Promise<yauzl.Entry | undefined>((ok, fail) => {
        archive.once('entry', ok);
        archive.once('end', () => ok(undefined));
        archive.once('error', fail);
        archive.readEntry();
      });
      archive.removeAllListeners('entry').removeAllListeners('end').removeAllListeners('error');
      if (!entry) break;
      const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
      const isDir = entry.fileName.endsWith('/');
      const path = target(root, isDir ? entry.fileName.slice(0, -1) : entry.fileName);
      if (mode !== 0 && mode !== (isDir ? S_IFDIR : S_IFREG))
        throw new Error(`refusing to unpack ${JSON.stringify(entry.fileName)}: not a plain file`);
      if (isDir) {
        await mkdir(path, { recursive: true });
        continue;
      }
      if (bytes + entry.uncompressedSize > limit)
        throw new Error(`the archive unpacks to more than ${limit} bytes (raise --max-bytes)`);
      await mkdir(dirname(path), { recursive: true });
      const stream = await new Promise<NodeJS.ReadableStream>((ok, fail) =>
        archive.openReadStream(entry, (error, read) => (error ? fail(error) : ok(read))),
      );
      const bound = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          if (bytes > limit)
            callback(
              new Error(`the archive unpacks to more than ${limit} bytes (raise --max-bytes)`),
            );
          else callback(null, chunk);
        },
      });
      // `wx`: never overwrite, and never follow a symlink already sitting at the path.
      await pipeline(stream, bound, createWriteStream(path, { flags: 'wx', mode: 0o644 }));
      files += 1;
    }
  } finally {
    archive.close();
  }
  return { files, bytes };
}
