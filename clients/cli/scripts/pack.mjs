// Packs `roam` as a tarball that installs on its own, with no network and no workspace:
// the CLI and everything it imports (the typed client, commander, yaml, the zip libraries)
// bundled into one file, and a package.json with no dependencies.
//
//   node clients/cli/scripts/pack.mjs [out-dir]   →  <out-dir>/roam-cli-<version>.tgz
//   npm install -g ./roam-cli-<version>.tgz       →  `roam` on the PATH
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'rolldown';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(process.argv[2] ?? pkgDir);
const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8'));

const stage = await mkdtemp(join(tmpdir(), 'roam-cli-pack-'));
try {
  await build({
    input: join(pkgDir, 'src', 'main.ts'),
    platform: 'node',
    logLevel: 'warn',
    output: {
      file: join(stage, 'roam.js'),
      format: 'esm',
      banner: '#!/usr/bin/env node',
      minify: true,
    },
  });
  await chmod(join(stage, 'roam.js'), 0o755);
  await writeFile(
    join(stage, 'package.json'),
    `${JSON.stringify(
      {
        name: pkg.name,
        version: pkg.version,
        description: pkg.description,
        type: 'module',
        bin: { roam: './roam.js' },
        files: ['roam.js'],
        engines: { node: '>=20.19' },
      },
      null,
      2,
    )}\n`,
  );
  await mkdir(outDir, { recursive: true });
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], {
      cwd: stage,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  console.log(join(outDir, packed.filename));
} finally {
  await rm(stage, { recursive: true, force: true });
}
