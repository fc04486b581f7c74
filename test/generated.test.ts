import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from '@jest/globals';
import { format, resolveConfig } from 'prettier';

// @ts-expect-error -- a plain ESM script without types, shared with `pnpm check`.
import { prismaClientDrift as drift } from '../scripts/check-generated.mjs';
import { markdown } from '../scripts/env-docs.js';

const prismaClientDrift = drift as (root?: string) => Promise<string[]>;
const root = fileURLToPath(new URL('..', import.meta.url));
const CLIENT = 'libs/db/src/generated/prisma';

describe('the committed Prisma client', () => {
  const copies: string[] = [];
  afterAll(async () => {
    for (const dir of copies) await rm(dir, { recursive: true, force: true });
  });

  it('is what prisma/schema.prisma generates (run `pnpm db:generate` after changing it)', async () => {
    expect(await prismaClientDrift()).toEqual([]);
  });

  it('is reported, file by file, once it no longer matches the schema', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'roam-drift-'));
    copies.push(copy);
    await cp(join(root, 'prisma/schema.prisma'), join(copy, 'prisma/schema.prisma'));
    await cp(join(root, CLIENT), join(copy, CLIENT), { recursive: true });
    // The schema gains a column, one generated file was never committed, one is left over.
    const schema = await readFile(join(copy, 'prisma/schema.prisma'), 'utf8');
    const edited = schema.replace(/^model LogArchive \{\n/m, '$&  note String?\n');
    expect(edited).not.toBe(schema);
    await writeFile(join(copy, 'prisma/schema.prisma'), edited);
    await rm(join(copy, CLIENT, 'enums.ts'));
    await writeFile(join(copy, CLIENT, 'models/Gone.ts'), 'export {};\n');

    const found = await prismaClientDrift(copy);
    expect(found).toEqual(
      expect.arrayContaining([
        'differs: models/LogArchive.ts',
        'differs: internal/class.ts',
        'missing: enums.ts',
        'not generated: models/Gone.ts',
      ]),
    );
    expect(found).not.toContain('differs: models/Tenant.ts');
  });
});

describe("the README's configuration tables", () => {
  it('are what `pnpm docs:env` generates from the env schemas', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const start = readme.indexOf('#### Every app');
    const end = readme.indexOf('\n## ', start);
    expect(start).toBeGreaterThan(0);
    const options = { ...(await resolveConfig(join(root, 'README.md'))), parser: 'markdown' };
    expect(readme.slice(start, end).trim()).toBe((await format(markdown(), options)).trim());
  });
});
