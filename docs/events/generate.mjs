// Writes the JSON Schemas of roam's public events into docs/events/schemas/, generated from the
// zod contracts in libs/contracts (one source for publisher, consumer and external docs).
// `pnpm events:schemas` runs it after a build; apps/notifier/test/event-schemas.test.ts fails
// when the committed files differ from what this generates.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { format, resolveConfig } from 'prettier';

/**
 * `{ file name → JSON text }` for the envelope and every `roam.evt.*` type, formatted as the
 * repository's prettier would, so `pnpm format:check` and the staleness test agree.
 */
export async function eventSchemaFiles(contracts) {
  const files = eventSchemas(contracts);
  const options = { ...(await resolveConfig(fileURLToPath(import.meta.url))), parser: 'json' };
  for (const name of Object.keys(files)) files[name] = await format(files[name], options);
  return files;
}

function eventSchemas({ messages, envelopeSchema }) {
  const files = {};
  const envelope = envelopeSchema.toJSONSchema({ target: 'draft-2020-12' });
  files['envelope.schema.json'] = render({
    $id: 'https://roam.dev/schemas/events/envelope.schema.json',
    title: 'roam event envelope',
    ...envelope,
  });
  for (const [type, schema] of Object.entries(messages).sort(([a], [b]) => a.localeCompare(b))) {
    if (!type.startsWith('roam.evt.')) continue;
    const data = schema.toJSONSchema({ target: 'draft-2020-12', io: 'output' });
    delete data.$schema;
    const properties = { ...envelope.properties, type: { const: type }, data };
    files[`${type}.schema.json`] = render({
      $schema: envelope.$schema,
      $id: `https://roam.dev/schemas/events/${type}.schema.json`,
      title: type,
      type: 'object',
      properties,
      required: [...new Set([...(envelope.required ?? []), 'data'])],
      additionalProperties: envelope.additionalProperties ?? false,
    });
  }
  return files;
}

const render = (value) => `${JSON.stringify(value, null, 2)}\n`;

async function main() {
  const contracts = await import('@roam/contracts');
  const out = join(dirname(fileURLToPath(import.meta.url)), 'schemas');
  await mkdir(out, { recursive: true });
  const files = await eventSchemaFiles(contracts);
  for (const name of await readdir(out)) {
    if (!(name in files)) await rm(join(out, name));
  }
  for (const [name, text] of Object.entries(files)) await writeFile(join(out, name), text);
  console.log(`events:schemas: ${Object.keys(files).length} schemas in docs/events/schemas`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
