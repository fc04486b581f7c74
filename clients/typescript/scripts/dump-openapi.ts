/**
 * Writes the gateway's OpenAPI document to clients/openapi.json, the one input of every
 * generated client (`pnpm clients:generate` runs this, then the generators). The document is
 * built from the routes' own zod schemas at boot, so it is read from a running gateway (with
 * its own database and subject prefix), not assembled here.
 */
import { writeFile } from 'node:fs/promises';

import { startHarness } from '../../../test/support/harness.js';

const target = new URL('../../openapi.json', import.meta.url);
const harness = await startHarness('openapi-dump');
try {
  const response = await fetch(`${harness.url}/openapi.json`);
  if (!response.ok) throw new Error(`GET /openapi.json: ${response.status}`);
  const document: unknown = await response.json();
  await writeFile(target, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`wrote ${target.pathname}\n`);
} finally {
  await harness.close();
}
