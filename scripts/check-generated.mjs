// The Prisma client in libs/db/src/generated is committed, so a fresh clone builds and
// type-checks with no generate step. This check keeps it honest: it generates the client from
// prisma/schema.prisma into a temporary directory and fails when any file differs from the
// committed one (`pnpm db:generate` and commit fixes it). Part of `pnpm check`;
// test/generated.test.ts runs it in CI too. The other generated files have their own checks:
// docs/events/schemas (apps/notifier/test/event-schemas.test.ts) and the README's
// configuration tables (test/generated.test.ts).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCHEMA = 'prisma/schema.prisma';

/** Relative paths of every file under `dir`, sorted; none if it does not exist. */
async function files(dir) {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

/** Where the schema's `generator client` writes, relative to the repository root. */
function outputOf(schemaText) {
  const generator = /generator\s+client\s*\{([^}]*)\}/.exec(schemaText)?.[1] ?? '';
  const output = /^\s*output\s*=\s*"([^"]+)"/m.exec(generator)?.[1];
  if (!output || isAbsolute(output))
    throw new Error(`${SCHEMA}: the client generator needs a relative output path`);
  return join(dirname(SCHEMA), output);
}

/**
 * Generates the client from `<root>/prisma/schema.prisma` into a temporary directory laid out
 * like the repository, so every relative path the generator embeds is the same as in the
 * committed client, and compares it file by file with the committed one (the generator's
 * output directory under `root`). Returns one line per difference; empty when they match.
 * `root` defaults to this repository; the Prisma CLI is always this repository's.
 */
export async function prismaClientDrift(root = ROOT) {
  const output = outputOf(await readFile(join(root, SCHEMA), 'utf8'));
  const work = await mkdtemp(join(tmpdir(), 'roam-generated-'));
  try {
    await mkdir(join(work, dirname(SCHEMA)), { recursive: true });
    await cp(join(root, SCHEMA), join(work, SCHEMA));
    const manifest = createRequire(join(ROOT, 'libs/db/package.json')).resolve(
      'prisma/package.json',
    );
    const { bin } = JSON.parse(await readFile(manifest, 'utf8'));
    const prisma = join(dirname(manifest), bin.prisma);
    await promisify(execFile)(
      process.execPath,
      [prisma, 'generate', '--schema', join(work, SCHEMA)],
      {
        cwd: work,
        env: {
          ...process.env,
          // Every Prisma CLI command wants a native schema engine first; generate never runs
          // it, so any existing file will do (see prisma.config.ts).
          PRISMA_SCHEMA_ENGINE_BINARY:
            process.env.PRISMA_SCHEMA_ENGINE_BINARY ??
            join(ROOT, 'libs/db/bin/schema-engine-unavailable.sh'),
          PRISMA_HIDE_UPDATE_MESSAGE: '1',
          CHECKPOINT_DISABLE: '1',
        },
      },
    );
    const fresh = join(work, output);
    const kept = join(root, output);
    const [want, have] = await Promise.all([files(fresh), files(kept)]);
    const drift = [];
    for (const file of want) {
      if (!have.includes(file)) drift.push(`missing: ${file}`);
      else {
        const [a, b] = await Promise.all([readFile(join(fresh, file)), readFile(join(kept, file))]);
        if (!a.equals(b)) drift.push(`differs: ${file}`);
      }
    }
    for (const file of have) if (!want.includes(file)) drift.push(`not generated: ${file}`);
    return drift;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The TypeScript client's types, generated from clients/openapi.json (which
 * test/clients/client.test.ts checks against the document the gateway serves). Returns the
 * drift, one line, or none.
 */
export async function clientTypesDrift(root = ROOT) {
  const { generateTypes, OUTPUT } = await import(
    join(root, 'clients/typescript/scripts/generate.mjs')
  );
  const want = await generateTypes();
  const have = existsSync(OUTPUT) ? await readFile(OUTPUT, 'utf8') : '';
  return want === have ? [] : [`differs: ${relative(root, OUTPUT)}`];
}

/**
 * The Python client's models and operations, generated from clients/openapi.json by
 * clients/python/scripts/generate.mjs. Returns one line per file that differs.
 */
export async function pythonClientDrift(root = ROOT) {
  const { generatePython, OUTPUT_DIR } = await import(
    join(root, 'clients/python/scripts/generate.mjs')
  );
  const drift = [];
  for (const [file, want] of Object.entries(await generatePython())) {
    const path = join(OUTPUT_DIR, file);
    const have = existsSync(path) ? await readFile(path, 'utf8') : '';
    if (want !== have) drift.push(`differs: ${relative(root, path)}`);
  }
  return drift;
}

async function main() {
  const python = await pythonClientDrift();
  if (python.length === 0) console.log('generated: roam_client matches clients/openapi.json');
  else {
    console.error(
      'generated: the committed roam_client models/operations differ from what ' +
        `clients/openapi.json generates (run \`pnpm clients:generate\` and commit):\n  ${python.join('\n  ')}`,
    );
    process.exitCode = 1;
  }
  const types = await clientTypesDrift();
  if (types.length === 0) console.log('generated: @roam/client matches clients/openapi.json');
  else {
    console.error(
      'generated: the committed @roam/client types differ from what clients/openapi.json ' +
        `generates (run \`pnpm clients:generate\` and commit the result):\n  ${types.join('\n  ')}`,
    );
    process.exitCode = 1;
  }
  const drift = await prismaClientDrift();
  if (drift.length === 0) {
    console.log(`generated: the Prisma client matches ${SCHEMA}`);
    return;
  }
  console.error(
    `generated: the committed Prisma client differs from what ${SCHEMA} generates ` +
      `(run \`pnpm db:generate\` and commit the result):\n  ${drift.join('\n  ')}`,
  );
  process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
