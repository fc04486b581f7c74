// Runs the Python client's pytest suite (clients/python/tests) against a running stack, so
// `pnpm test` covers roam_client too. The virtualenv is made by `.ci/run`
// (clients/python/.venv, pinned by clients/python/requirements-test.txt).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { register } from '../support/harness.js';
import { tenantReady } from '../support/jobs-api.js';
import { type ClientStack, startClientStack } from './stack.js';

const PROJECT = fileURLToPath(new URL('../../clients/python/', import.meta.url));
const PYTHON = `${PROJECT}.venv/bin/python`;

describe('roam_client (Python)', () => {
  let h: ClientStack;
  let key: string;

  beforeAll(async () => {
    if (!existsSync(PYTHON))
      throw new Error(
        `no Python test environment at ${PYTHON}: run .ci/run, or ` +
          'python3 -m venv clients/python/.venv && ' +
          'clients/python/.venv/bin/pip install -r clients/python/requirements-test.txt',
      );
    h = await startClientStack('python');
    key = await register(h.url, 'py-a', { max_concurrent_jobs: 10 });
    await tenantReady(h.prisma, 'py-a');
  });
  afterAll(() => h?.close());

  it('passes its pytest suite against the running stack', async () => {
    const run = await new Promise<{ code: number; output: string }>((resolve, reject) => {
      const child = spawn(PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], {
        cwd: PROJECT,
        env: {
          PATH: process.env.PATH ?? '',
          PYTHONPATH: PROJECT,
          PYTHONDONTWRITEBYTECODE: '1',
          ROAM_URL: h.url,
          ROAM_API_KEY: key,
        },
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, output }));
    });
    // On failure the error carries pytest's own report.
    if (run.code !== 0) throw new Error(`pytest exited with ${run.code}:\n${run.output}`);
    expect(run.output).toMatch(/\b6 passed\b/);
    // pytest runs six calls end to end against the stack; under a loaded CI machine that takes
    // longer than the default minute.
  }, 180_000);
});
