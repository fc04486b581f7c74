import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';

import tar from 'tar-stream';
import yauzl from 'yauzl';

/** The archive formats roam accepts as a job's inputs. */
export type ArchiveFormat = 'zip' | 'tar.gz';

export interface ArchiveLimits {
  maxEntries: number;
  maxUncompressedBytes: number;
}

export interface ArchiveEntry {
  path: string;
  size: number;
}

export interface ArchiveSummary {
  format: ArchiveFormat;
  entries: ArchiveEntry[];
  uncompressedBytes: number;
}

/** Why an archive was refused; `code` is stable (it names the problem type). */
export class ArchiveRejected extends Error {
  constructor(
    readonly code:
      | 'not-an-archive'
      | 'too-many-entries'
      | 'too-large-uncompressed'
      | 'unsafe-path'
      | 'not-a-file'
      | 'size-mismatch'
      | 'missing-required',
    message: string,
  ) {
    super(message);
    this.name = 'ArchiveRejected';
  }
}

type GlobToken = { kind: 'char'; char: string } | { kind: 'star' } | { kind: 'globstar' };

function globTokens(pattern: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '*') tokens.push({ kind: 'char', char: pattern[i]! });
    else if (pattern[i + 1] === '*') {
      tokens.push({ kind: 'globstar' });
      while (pattern[i + 1] === '*') i++;
    } else tokens.push({ kind: 'star' });
  }
  return tokens;
}

/**
 * Whether `text` matches the glob's tokens. The pattern is run as a set of positions (an NFA),
 * one pass over `text`: O(text · pattern) whatever the pattern, where a backtracking regex
 * takes exponential time on `*a*a*a…b` (patterns come from tenants).
 */
function globTest(tokens: readonly GlobToken[], text: string): boolean {
  const size = tokens.length + 1;
  let live = new Uint8Array(size);
  let next = new Uint8Array(size);
  // A star may match nothing: a live position before a star makes the one after it live.
  const close = (set: Uint8Array) => {
    for (let i = 0; i < tokens.length; i++)
      if (set[i] && tokens[i]!.kind !== 'char') set[i + 1] = 1;
  };
  live[0] = 1;
  close(live);
  // Code units, as the pattern is read (and as the regex this replaced did).
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    next.fill(0);
    let any = false;
    for (let i = 0; i < tokens.length; i++) {
      if (!live[i]) continue;
      const token = tokens[i]!;
      if (token.kind === 'globstar' || (token.kind === 'star' && char !== '/')) next[i] = 1;
      else if (token.kind === 'char' && token.char === char) next[i + 1] = 1;
      else continue;
      any = true;
    }
    if (!any) return false;
    close(next);
    [live, next] = [next, live];
  }
  return live[tokens.length] === 1;
}

/**
 * `*.xml`, `data/*.csv`, `**` style globs: `*` matches within one path segment, `**` across
 * segments, every other character itself. A pattern without `/` matches the base name.
 */
export function globMatcher(patterns: readonly string[]): (path: string) => boolean {
  const compiled = patterns.map((pattern) => ({
    base: !pattern.includes('/'),
    tokens: globTokens(pattern),
  }));
  return (path) => {
    const base = path.split('/').pop() ?? path;
    return compiled.some((c) => globTest(c.tokens, c.base ? base : path));
  };
}

/** Refuses absolute paths, drive letters, backslashes and any `..` segment (zip slip). */
export function safeEntryPath(raw: string): string {
  const path = raw.replace(/^\.\/+/, '');
  if (
    path === '' ||
    path.startsWith('/') ||
    path.includes('\\') ||
    /^[A-Za-z]:/.test(path) ||
    path.includes('\0') ||
    path.split('/').some((segment) => segment === '..')
  )
    throw new ArchiveRejected('unsafe-path', `archive entry "${raw}" escapes the inputs directory`);
  return path;
}

/** Sniffs the first bytes: `PK\x03\x04` (or an empty zip's `PK\x05\x06`) or gzip's `\x1f\x8b`. */
export async function sniffArchive(file: string): Promise<ArchiveFormat | undefined> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5))
      return 'zip';
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
    return undefined;
  } finally {
    await handle.close();
  }
}

/** yauzl refuses unsafe names itself ("absolute path", "invalid relative path"): zip slip. */
function zipError(e: Error): ArchiveRejected {
  return /absolute path|invalid relative path|invalid characters/i.test(e.message)
    ? new ArchiveRejected('unsafe-path', `archive entry escapes the inputs directory: ${e.message}`)
    : new ArchiveRejected('not-an-archive', `not a readable zip: ${e.message}`);
}

const tooLarge = (limits: ArchiveLimits) =>
  new ArchiveRejected(
    'too-large-uncompressed',
    `archive expands to more than ${limits.maxUncompressedBytes} bytes`,
  );

class Tally {
  readonly entries: ArchiveEntry[] = [];
  bytes = 0;
  constructor(private readonly limits: ArchiveLimits) {}
  add(rawPath: string, size: number): void {
    const path = safeEntryPath(rawPath);
    if (this.entries.length + 1 > this.limits.maxEntries)
      throw new ArchiveRejected(
        'too-many-entries',
        `archive has more than ${this.limits.maxEntries} entries`,
      );
    this.bytes += size;
    if (this.bytes > this.limits.maxUncompressedBytes) throw tooLarge(this.limits);
    this.entries.push({ path, size });
  }
}

/** S_IFMT of the Unix mode a zip keeps in the high half of an entry's external attributes. */
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/** Directories and regular files only: a symlink would point the unpacked tree anywhere. */
function zipEntryKind(entry: yauzl.Entry): 'file' | 'directory' {
  const madeByUnix = entry.versionMadeBy >> 8 === 3;
  const type = madeByUnix ? (entry.externalFileAttributes >>> 16) & S_IFMT : 0;
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR)
    throw new ArchiveRejected(
      'not-a-file',
      `archive entry "${entry.fileName}" is a ${type === 0o120000 ? 'symlink' : 'special file'}, not a file`,
    );
  return entry.fileName.endsWith('/') || type === S_IFDIR ? 'directory' : 'file';
}

/**
 * Reads every entry of an open zip to its end, counting the bytes it really expands to: the
 * sizes in the central directory are the uploader's word, while `unzip` in the pod writes what
 * the data inflates to. Stops at the expanded-size cap, and refuses an entry whose real size
 * differs from its header and any entry that is not a file or directory.
 */
function walkZip(
  zip: yauzl.ZipFile,
  limits: ArchiveLimits,
  onFile?: (path: string, content: Buffer) => void,
): Promise<ArchiveSummary> {
  return new Promise((resolve, reject) => {
    const tally = new Tally(limits);
    let expanded = 0;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      zip.close();
      reject(
        error instanceof ArchiveRejected
          ? error
          : error instanceof Error
            ? zipReadError(error)
            : new Error(String(error)),
      );
    };
    if (zip.entryCount > limits.maxEntries) {
      fail(
        new ArchiveRejected(
          'too-many-entries',
          `archive has more than ${limits.maxEntries} entries`,
        ),
      );
      return;
    }
    zip.on('entry', (entry: yauzl.Entry) => {
      let path: string;
      try {
        if (zipEntryKind(entry) === 'directory') {
          safeEntryPath(entry.fileName);
          zip.readEntry();
          return;
        }
        tally.add(entry.fileName, entry.uncompressedSize);
        path = safeEntryPath(entry.fileName);
      } catch (e) {
        fail(e);
        return;
      }
      zip.openReadStream(entry, (error, stream) => {
        if (error || !stream) {
          fail(error ?? new Error('unreadable entry'));
          return;
        }
        let real = 0;
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => {
          real += chunk.length;
          expanded += chunk.length;
          if (expanded > limits.maxUncompressedBytes) {
            stream.destroy();
            fail(tooLarge(limits));
            return;
          }
          if (onFile) chunks.push(chunk);
        });
        stream.once('error', fail);
        stream.once('end', () => {
          if (settled) return;
          if (real !== entry.uncompressedSize) {
            fail(
              new ArchiveRejected(
                'size-mismatch',
                `archive entry "${entry.fileName}" expands to ${real} bytes, its header says ${entry.uncompressedSize}`,
              ),
            );
            return;
          }
          onFile?.(path, Buffer.concat(chunks));
          zip.readEntry();
        });
      });
    });
    zip.once('end', () => {
      if (settled) return;
      settled = true;
      resolve({ format: 'zip', entries: tally.entries, uncompressedBytes: tally.bytes });
    });
    zip.once('error', fail);
    zip.readEntry();
  });
}

/** What yauzl's own checks mean: an unsafe name, data that disagrees with its header, or junk. */
function zipReadError(e: Error): ArchiveRejected {
  if (/too many bytes|not enough bytes|expected \d+|uncompressed ?size/i.test(e.message))
    return new ArchiveRejected(
      'size-mismatch',
      `an archive entry does not expand to the size its header says: ${e.message}`,
    );
  return zipError(e);
}

function openZip(
  open: (callback: (error: Error | null, zip?: yauzl.ZipFile) => void) => void,
): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    open((error, zip) => {
      if (error || !zip)
        reject(
          new ArchiveRejected('not-an-archive', `not a readable zip: ${error?.message ?? ''}`),
        );
      else resolve(zip);
    }),
  );
}

// Entry sizes are checked by walkZip itself, which counts to the cap before comparing.
const ZIP_OPTIONS = { lazyEntries: true, strictFileNames: false, validateEntrySizes: false };

async function inspectZip(file: string, limits: ArchiveLimits): Promise<ArchiveSummary> {
  const zip = await openZip((callback) => yauzl.open(file, ZIP_OPTIONS, callback));
  return walkZip(zip, limits);
}

/** Reads a tar.gz to its end (it has no directory), counting entries and expanded bytes. */
async function walkTarGz(
  source: Readable,
  limits: ArchiveLimits,
  onFile?: (path: string, content: Buffer) => void,
): Promise<ArchiveSummary> {
  const tally = new Tally(limits);
  const extract = tar.extract();
  const gunzip = createGunzip();
  let expanded = 0;
  gunzip.on('data', (chunk: Buffer) => {
    // The gzip stream itself is bounded too: headers and padding of a bomb count.
    expanded += chunk.length;
    if (expanded > limits.maxUncompressedBytes * 2 + 1024 * 1024)
      gunzip.destroy(
        new ArchiveRejected(
          'too-large-uncompressed',
          `archive expands to more than ${limits.maxUncompressedBytes} bytes`,
        ),
      );
  });
  source.pipe(gunzip).pipe(extract);
  const failed = new Promise<never>((_, reject) => {
    const fail = (e: Error) =>
      reject(
        e instanceof ArchiveRejected
          ? e
          : new ArchiveRejected('not-an-archive', `not a readable tar.gz: ${e.message}`),
      );
    gunzip.once('error', fail);
    source.once('error', fail);
  });
  const walk = (async () => {
    for await (const entry of extract) {
      const header = entry.header;
      if (header.type === 'file' || header.type === 'contiguous-file') {
        tally.add(header.name, header.size ?? 0);
        const chunks: Buffer[] = [];
        for await (const chunk of entry) if (onFile) chunks.push(chunk as Buffer);
        onFile?.(safeEntryPath(header.name), Buffer.concat(chunks));
      } else {
        if (header.type !== 'directory')
          throw new ArchiveRejected(
            'not-a-file',
            `archive entry "${header.name}" is a ${header.type}, not a file`,
          );
        safeEntryPath(header.name);
        entry.resume();
      }
    }
    return { format: 'tar.gz' as const, entries: tally.entries, uncompressedBytes: tally.bytes };
  })();
  try {
    return await Promise.race([walk, failed]);
  } catch (error) {
    source.destroy();
    extract.destroy();
    throw error instanceof ArchiveRejected
      ? error
      : new ArchiveRejected('not-an-archive', `not a readable tar.gz: ${(error as Error).message}`);
  }
}

/**
 * Checks an uploaded archive on disk before anything is kept: a real zip or tar.gz, within the
 * entry-count and expanded-size limits (zip bombs), no absolute or `..` paths (zip slip), and
 * every `required` glob matched by at least one file.
 */
export async function inspectArchive(
  file: string,
  limits: ArchiveLimits,
  required: readonly string[] = [],
): Promise<ArchiveSummary> {
  const format = await sniffArchive(file);
  if (!format)
    throw new ArchiveRejected('not-an-archive', 'the upload is neither a zip nor a tar.gz archive');
  const summary =
    format === 'zip'
      ? await inspectZip(file, limits)
      : await walkTarGz(createReadStream(file), limits);
  for (const pattern of required) {
    const matches = globMatcher([pattern]);
    if (!summary.entries.some((entry) => matches(entry.path)))
      throw new ArchiveRejected('missing-required', `the archive has no file matching ${pattern}`);
  }
  return summary;
}

/**
 * Unpacks an archive held in memory, calling `onFile` for every file (after the same checks as
 * `inspectArchive`). Used by the simulator's inputs fetcher; the real fetcher is `unzip`/`tar`.
 */
export async function extractArchive(
  data: Buffer,
  limits: ArchiveLimits,
  onFile: (path: string, content: Buffer) => void,
): Promise<ArchiveSummary> {
  if (data[0] === 0x1f && data[1] === 0x8b) return walkTarGz(Readable.from([data]), limits, onFile);
  const zip = await openZip((callback) => yauzl.fromBuffer(data, ZIP_OPTIONS, callback));
  return walkZip(zip, limits, onFile);
}

/** One file of a streamed tar.gz: read `content` to its end before asking for the next. */
export interface TarFile {
  path: string;
  size: number;
  content: Readable;
}

/**
 * Streams the files of a tar.gz (a results upload) without holding any of them in memory.
 * Entries are checked as inputs are (safe paths, entry-count and expanded-size caps); `.` and
 * other directories, symlinks and devices are skipped, since only regular files are results.
 */
export async function* tarGzFiles(
  source: Readable,
  limits: ArchiveLimits,
): AsyncGenerator<TarFile> {
  const tally = new Tally(limits);
  const extract = tar.extract();
  const gunzip = createGunzip();
  const fail = (e: Error) =>
    extract.destroy(
      e instanceof ArchiveRejected
        ? e
        : new ArchiveRejected('not-an-archive', `not a readable tar.gz: ${e.message}`),
    );
  source.once('error', fail);
  gunzip.once('error', fail);
  source.pipe(gunzip).pipe(extract);
  try {
    for await (const entry of extract) {
      const { header } = entry;
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        entry.resume();
        continue;
      }
      tally.add(header.name, header.size ?? 0);
      yield {
        path: safeEntryPath(header.name),
        size: header.size ?? 0,
        content: Readable.from(entry),
      };
      entry.resume();
    }
  } finally {
    source.destroy();
    gunzip.destroy();
    extract.destroy();
  }
}

/** Packs files (path → content) into a tar.gz in memory: the simulator's results uploader. */
export async function packTarGz(files: Iterable<readonly [string, Buffer]>): Promise<Buffer> {
  const pack = tar.pack();
  const gzip = pack.pipe(createGzip());
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    gzip.once('end', resolve);
    gzip.once('error', reject);
  });
  for (const [path, content] of files) pack.entry({ name: path, size: content.length }, content);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
