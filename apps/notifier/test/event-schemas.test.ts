import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from '@jest/globals';
import * as contracts from '@roam/contracts';

// @ts-expect-error -- a plain ESM script without types, shared with `pnpm events:schemas`.
import { eventSchemaFiles } from '../../../docs/events/generate.mjs';

const dir = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'docs',
  'events',
  'schemas',
);

describe('docs/events/schemas', () => {
  it('matches the zod contracts (run `pnpm events:schemas` after changing them)', async () => {
    const generate = eventSchemaFiles as (c: typeof contracts) => Promise<Record<string, string>>;
    const expected = await generate(contracts);
    const names = (await readdir(dir)).sort();
    expect(names).toEqual(Object.keys(expected).sort());
    for (const name of names) {
      expect({ name, text: await readFile(join(dir, name), 'utf8') }).toEqual({
        name,
        text: expected[name],
      });
    }
    expect(names).toContain(`${contracts.subjects.job.succeeded}.schema.json`);
    expect(names).toContain(`${contracts.subjects.webhook.disabled}.schema.json`);
  });
});
