// Compiles every workspace package's src/ into its dist/ with SWC (no type checking: that is
// `pnpm typecheck`). One process for the whole tree keeps the build to about a second.
import { transformFile } from '@swc/core';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const swcrc = JSON.parse(await readFile(join(root, '.swcrc'), 'utf8'));
delete swcrc.$schema;

async function* sources(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (
      entry.name.endsWith('.ts') &&
      !entry.name.endsWith('.spec.ts') &&
      !entry.name.endsWith('.d.ts')
    )
      yield path;
    else if (
      entry.name.endsWith('.js') ||
      entry.name.endsWith('.json') ||
      entry.name.endsWith('.wasm')
    )
      yield path;
  }
}

async function buildPackage(pkgDir) {
  const src = join(pkgDir, 'src');
  const out = join(pkgDir, 'dist');
  await rm(out, { recursive: true, force: true });
  let count = 0;
  const jobs = [];
  for await (const file of sources(src)) {
    const target = join(out, relative(src, file)).replace(/\.ts$/, '.js');
    jobs.push(
      (async () => {
        await mkdir(dirname(target), { recursive: true });
        if (!file.endsWith('.ts')) {
          await writeFile(target, await readFile(file));
          return;
        }
        const { code, map } = await transformFile(file, {
          ...swcrc,
          filename: file,
          sourceFileName: relative(dirname(target), file),
          swcrc: false,
          configFile: false,
        });
        await writeFile(target, `${code}\n//# sourceMappingURL=${target.split('/').pop()}.map\n`);
        if (map) await writeFile(`${target}.map`, map);
        count += 1;
      })(),
    );
  }
  await Promise.all(jobs);
  return count;
}

const started = Date.now();
let total = 0;
for (const group of ['libs', 'apps', 'clients']) {
  let names = [];
  try {
    names = await readdir(join(root, group));
  } catch {
    continue;
  }
  const built = await Promise.all(
    names.map(async (name) => {
      try {
        await readdir(join(root, group, name, 'src'));
      } catch {
        return 0;
      }
      return buildPackage(join(root, group, name));
    }),
  );
  total += built.reduce((a, b) => a + b, 0);
}
console.log(`build: ${total} files in ${Date.now() - started} ms`);
