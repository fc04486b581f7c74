import { isDeepStrictEqual } from 'node:util';

import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';

function rewriteRefs(node: unknown, rename: (name: string) => string): unknown {
  if (Array.isArray(node)) return node.map((item) => rewriteRefs(item, rename));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] =
      key === '$ref' && typeof value === 'string' && value.startsWith('#/$defs/')
        ? COMPONENTS + rename(value.slice('#/$defs/'.length))
        : rewriteRefs(value, rename);
  }
  return out;
}

/**
 * Turns zod schemas into OpenAPI 3.1 schemas (JSON Schema 2020-12) with `z.toJSONSchema`,
 * hoisting every named schema (`.meta({ id })`) into `components.schemas` so `$ref`s resolve
 * from the document root. Request bodies and query strings are converted as zod *inputs*
 * (defaults optional), responses as *outputs*; a named schema whose two sides differ gets a
 * second component `<id>Input` (or `<id>Output`, whichever side comes second).
 */
export class SchemaCollector {
  readonly components: Record<string, JsonSchema> = {};
  private anonymous = 0;

  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      unrepresentable: 'any',
    }) as JsonSchema;
    delete json.$schema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    delete json.$defs;
    // Unnamed defs (cycles, reuse) get names unique to the document.
    const local = new Map<string, string>();
    for (const name of Object.keys(defs)) {
      if (name.startsWith('__schema')) local.set(name, `Schema${(this.anonymous += 1)}`);
    }
    // A def that differs from the component of its name (the other side of a schema with
    // defaults or transforms) gets a suffix; one that refers to a suffixed def may differ in
    // turn, so repeat until nothing changes.
    const suffix = io === 'input' ? 'Input' : 'Output';
    const suffixed = new Set<string>();
    const rename = (name: string) =>
      local.get(name) ?? (suffixed.has(name) ? `${name}${suffix}` : name);
    for (let changed = true; changed;) {
      changed = false;
      for (const [name, def] of Object.entries(defs)) {
        if (suffixed.has(name)) continue;
        const existing = this.components[rename(name)];
        if (existing !== undefined && !isDeepStrictEqual(existing, rewriteRefs(def, rename))) {
          suffixed.add(name);
          changed = true;
        }
      }
    }
    for (const [name, def] of Object.entries(defs)) {
      this.components[rename(name)] = rewriteRefs(def, rename) as JsonSchema;
    }
    return rewriteRefs(json, rename) as JsonSchema;
  }
}
