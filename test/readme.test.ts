import { readFile } from 'node:fs/promises';

import { describe, expect, it } from '@jest/globals';

import { allKeys } from '../scripts/env-docs.js';

describe('README', () => {
  it('documents every environment variable every app reads', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const missing = [...allKeys()].filter((key) => !readme.includes(`\`${key}\``));
    expect(missing).toEqual([]);
  });

  it('names the test command CI runs', async () => {
    const [readme, ci] = await Promise.all([
      readFile(new URL('../README.md', import.meta.url), 'utf8'),
      readFile(new URL('../.ci/run', import.meta.url), 'utf8'),
    ]);
    expect(readme).toContain('pnpm test ');
    expect(ci).toContain('pnpm test');
  });
});
