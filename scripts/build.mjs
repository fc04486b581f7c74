// Compiles every workspace package's src/ into its dist/ with SWC (no type checking: that is
// `pnpm typecheck`). One process for the whole tree keeps the build to about a second. A package
// with a vite.config.ts (the console) is a browser app: Vite bundles it instead, and only when
// its sources (or the typed client's) changed since its last bundle.
import { transformFile } from '@swc/core';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
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

/** Newest modification time under `paths` (files or directories), in ms; 0 if none exist. */
async function newest(paths) {
  let latest = 0;
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      continue;
    }
    if (!info.isDirectory()) latest = Math.max(latest, info.mtimeMs);
    else
      for (const entry of await readdir(path, { withFileTypes: true, recursive: true }))
        if (entry.isFile())
          latest = Math.max(latest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return latest;
}

async function bundleBrowserApp(pkgDir) {
  const inputs = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((p) =>
    join(pkgDir, p),
  );
  inputs.push(join(root, 'clients', 'typescript', 'src'));
  const built = await newest([join(pkgDir, 'dist', 'index.html')]);
  if (built > 0 && built >= (await newest(inputs))) return false;
  const vite = await import(createRequire(join(pkgDir, 'package.json')).resolve('vite'));
  await vite.build({ root: pkgDir, logLevel: 'warn' });
  return true;
}

const isBrowserApp = async (pkgDir) => (await newest([join(pkgDir, 'vite.config.ts')])) > 0;

const started = Date.now();
let total = 0;
const browserApps = [];
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
      if (await isBrowserApp(join(root, group, name))) {
        browserApps.push(join(root, group, name));
        return 0;
      }
      return buildPackage(join(root, group, name));
    }),
  );
  total += built.reduce((a, b) => a + b, 0);
}
// After the SWC pass: the bundles import the typed client, which is built above.
const bundled = [];
for (const app of browserApps) if (await bundleBrowserApp(app)) bundled.push(relative(root, app));
console.log(
  `build: ${total} files${bundled.length ? `, bundled ${bundled.join(', ')}` : ''} in ${Date.now() - started} ms`,
);
