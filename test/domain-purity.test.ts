import { fileURLToPath } from 'node:url';

import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

/*
 * The repository's own eslint.config.mjs, applied to files that exist only in memory. The
 * import restriction is syntactic, so the type-aware rules are switched off: the TypeScript
 * project service cannot open a file that is not on disk (and would take a minute to start).
 */
const eslint = new ESLint({
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  overrideConfig: tseslint.configs.disableTypeChecked,
});

async function lint(code: string, filePath = 'libs/domain/src/scheduling/example.ts') {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => ({ rule: m.ruleId, line: m.line, message: m.message }));
}

const restricted = (rule: string, line = 1) => ({
  rule,
  line,
  message: expect.stringContaining('libs/domain is pure'),
});

describe('libs/domain stays free of framework and I/O imports', () => {
  it.each([
    '@nestjs/common',
    '@prisma/client',
    '@roam/db',
    '@roam/kube',
    '@roam/messaging',
    '@roam/object-store',
    '@roam/runtime',
    '@roam/telemetry',
    '@nats-io/jetstream',
    '@kubernetes/client-node',
    'pg',
    'minio',
    'node:fs',
    'node:fs/promises',
    'fs',
    'node:net',
    'node:http',
    'node:https',
    'node:child_process',
    'os',
  ])('rejects %s', async (name) => {
    const code = `import * as io from '${name}';\n\nexport const used = io;\n`;
    expect(await lint(code)).toEqual([restricted('no-restricted-imports')]);
  });

  it('rejects a type-only import of a client type and a dynamic import', async () => {
    const code = [
      "import type { PrismaClient } from '@roam/db';",
      '',
      'export type Client = PrismaClient;',
      "export const later = () => import('pg');",
      '',
    ].join('\n');
    expect(await lint(code)).toEqual([
      restricted('no-restricted-imports', 1),
      restricted('no-restricted-syntax', 4),
    ]);
  });

  it('accepts a pure module: contracts, crypto and its own modules', async () => {
    const code = [
      "import { randomBytes } from 'node:crypto';",
      '',
      "import type { JobSpec } from '@roam/contracts';",
      '',
      "import { cpuMillis } from '../quantity.js';",
      '',
      "export const cpuOf = (spec: JobSpec): number => cpuMillis(spec.resources?.cpu ?? '1');",
      'export const salt = (): string => randomBytes(8).toString("hex");',
      '',
    ].join('\n');
    expect(await lint(code)).toEqual([]);
  });

  it('leaves apps and adapters alone', async () => {
    const code = "import { Injectable } from '@nestjs/common';\n\nexport const x = Injectable;\n";
    expect(await lint(code, 'apps/reconciler/src/example.ts')).toEqual([]);
  });
});
