import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import tar from 'tar-stream';
import yazl from 'yazl';

import { ArchiveRejected, extractArchive, globMatcher, inspectArchive } from '../src/index.js';

const limits = { maxEntries: 10, maxUncompressedBytes: 1000 };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roam-archive-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tarGz(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack.pipe(createGzip())) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('tar.gz inputs', () => {
  it('accepts a tar.gz with the required file and unpacks it', async () => {
    const data = await tarGz({ 'cfg/run.sumocfg': '<c/>', 'cfg/a.net.xml': '<n/>' });
    const file = join(dir, 'ok.tgz');
    await writeFile(file, data);
    const summary = await inspectArchive(file, limits, ['*.sumocfg']);
    expect(summary.format).toBe('tar.gz');
    expect(summary.entries.map((e) => e.path)).toEqual(['cfg/run.sumocfg', 'cfg/a.net.xml']);
    const seen: Record<string, string> = {};
    await extractArchive(data, limits, (path, content) => (seen[path] = content.toString()));
    expect(seen).toEqual({ 'cfg/run.sumocfg': '<c/>', 'cfg/a.net.xml': '<n/>' });
  });

  it.each([
    ['too-many-entries', Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, 'x']))],
    ['too-large-uncompressed', { big: 'x'.repeat(1001) }],
    ['unsafe-path', { '../evil': 'x' }],
  ])('refuses %s', async (code, files) => {
    const file = join(dir, `${code}.tgz`);
    await writeFile(file, await tarGz(files));
    await expect(inspectArchive(file, limits)).rejects.toMatchObject({ code });
  });

  it('refuses bytes that are neither zip nor gzip', async () => {
    const file = join(dir, 'plain.txt');
    await writeFile(file, 'hello');
    await expect(inspectArchive(file, limits)).rejects.toBeInstanceOf(ArchiveRejected);
  });
});

async function zip(
  files: Record<string, { content: string | Buffer; mode?: number }>,
): Promise<Buffer> {
  const out = new yazl.ZipFile();
  for (const [name, { content, mode }] of Object.entries(files))
    out.addBuffer(Buffer.from(content), name, mode === undefined ? {} : { mode });
  out.end();
  const chunks: Buffer[] = [];
  for await (const chunk of out.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A zip whose headers lie: every entry's uncompressed size, in the central directory and the
 * local headers, is rewritten to `claimed`, while the deflated data stays what it was.
 */
function lyingAboutSizes(data: Buffer, claimed: number): Buffer {
  const out = Buffer.from(data);
  for (let at = 0; at + 4 <= out.length; at++) {
    const signature = out.readUInt32LE(at);
    if (signature === 0x02014b50) out.writeUInt32LE(claimed, at + 24);
    else if (signature === 0x04034b50 && out.readUInt32LE(at + 22) !== 0)
      out.writeUInt32LE(claimed, at + 22);
    else if (signature === 0x08074b50) out.writeUInt32LE(claimed, at + 12);
  }
  return out;
}

async function tarGzWith(entries: Parameters<tar.Pack['entry']>[0][]): Promise<Buffer> {
  const pack = tar.pack();
  for (const header of entries)
    if (header.type === 'file') pack.entry(header, 'x');
    else pack.entry(header);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack.pipe(createGzip())) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('archives whose headers lie', () => {
  const check = async (name: string, data: Buffer) => {
    const file = join(dir, name);
    await writeFile(file, data);
    const inspected = inspectArchive(file, limits).then(
      () => undefined,
      (e: ArchiveRejected) => e.code,
    );
    const extracted = extractArchive(data, limits, () => undefined).then(
      () => undefined,
      (e: ArchiveRejected) => e.code,
    );
    return [await inspected, await extracted];
  };

  it('counts the bytes a zip really expands to, not the sizes it declares', async () => {
    // 200 kB of zeros deflate to a few hundred bytes; the headers claim 10 bytes.
    const bomb = lyingAboutSizes(await zip({ 'a.bin': { content: Buffer.alloc(200_000) } }), 10);
    expect(await check('bomb.zip', bomb)).toEqual([
      'too-large-uncompressed',
      'too-large-uncompressed',
    ]);
  });

  it('refuses a zip entry whose real size differs from its header, within the caps', async () => {
    const liar = lyingAboutSizes(await zip({ 'a.txt': { content: 'x'.repeat(500) } }), 10);
    expect(await check('liar.zip', liar)).toEqual(['size-mismatch', 'size-mismatch']);
  });

  it('refuses symlink entries in a zip', async () => {
    const link = await zip({
      'ok.txt': { content: 'fine' },
      'etc-passwd': { content: '/etc/passwd', mode: 0o120777 },
    });
    expect(await check('link.zip', link)).toEqual(['not-a-file', 'not-a-file']);
  });

  it.each([
    ['symlink', { name: 'l', type: 'symlink', linkname: '/etc/passwd' }],
    ['hard link', { name: 'h', type: 'link', linkname: 'f' }],
  ] as const)('refuses a %s in a tar.gz', async (_kind, entry) => {
    const data = await tarGzWith([{ name: 'f', type: 'file', size: 1 }, { ...entry }]);
    expect(await check(`${_kind}.tgz`, data)).toEqual(['not-a-file', 'not-a-file']);
  });

  it('still accepts an honest zip and unpacks it', async () => {
    const data = await zip({ 'cfg/run.sumocfg': { content: '<c/>' } });
    const seen: Record<string, string> = {};
    await extractArchive(data, limits, (path, content) => (seen[path] = content.toString()));
    expect(seen).toEqual({ 'cfg/run.sumocfg': '<c/>' });
    expect(await check('honest.zip', data)).toEqual([undefined, undefined]);
  });
});

describe('globMatcher', () => {
  it('matches base names for patterns without a slash, paths otherwise', () => {
    const keep = globMatcher(['*.xml', 'out/*.csv']);
    expect(['a.xml', 'deep/b.xml', 'out/c.csv', 'c.csv', 'a.xml.bak'].map(keep)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it.each([
    ['*.xml', 'a.xml', true],
    ['*.xml', 'deep/dir/a.xml', true],
    ['*.xml', 'a.xml.bak', false],
    ['*.xml', '.xml', true],
    ['out/*.csv', 'out/c.csv', true],
    ['out/*.csv', 'out/sub/c.csv', false],
    ['out/*.csv', 'x/out/c.csv', false],
    ['out/**', 'out/a/b/c', true],
    ['out/**', 'out/', true],
    ['out/**', 'outx/a', false],
    ['**/*.log', 'a/b/run.log', true],
    ['**/*.log', 'run.log', false],
    ['a**b', 'a/x/b', false],
    ['x/a**b', 'x/a/y/b', true],
    ['*', 'anything', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['run?.txt', 'run?.txt', true],
    ['run?.txt', 'run1.txt', false],
    ['[ab].txt', '[ab].txt', true],
    ['[ab].txt', 'a.txt', false],
    ['a.b', 'axb', false],
    ['sim/*/out.xml', 'sim/1/out.xml', true],
    ['sim/*/out.xml', 'sim/1/2/out.xml', false],
    ['ünï*.txt', 'ünïcode.txt', true],
  ])('%s against %s is %s', (pattern, path, expected) => {
    expect(globMatcher([pattern])(path)).toBe(expected);
  });

  it('answers hostile patterns without backtracking', () => {
    // A backtracking regex needs exponential time for these; the matcher one pass per name.
    const name = 'a'.repeat(5000);
    expect(globMatcher(['*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b'])(name)).toBe(false);
    expect(globMatcher(['**a**a**a**a**a**a**a**a**b'])(`${'a/'.repeat(2000)}c`)).toBe(false);
    expect(globMatcher(['*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a'])(name)).toBe(true);
  });
});
