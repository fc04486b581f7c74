import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import tar from 'tar-stream';

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
