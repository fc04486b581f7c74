// Generates roam_client/_generated/{models,operations}.py from clients/openapi.json: a
// TypedDict per component schema and one typed method per operation, async and sync. No
// maintained Python generator installs from the package index this project builds from, so
// this small one is kept here; scripts/check-generated.mjs calls `generatePython` and fails
// when the committed files differ (`pnpm clients:generate` rewrites them).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const DOCUMENT = fileURLToPath(new URL('../../openapi.json', import.meta.url));
export const OUTPUT_DIR = fileURLToPath(new URL('../roam_client/_generated/', import.meta.url));

const HEADER =
  '# Generated from clients/openapi.json by clients/python/scripts/generate.mjs: do not edit.\n' +
  '# `pnpm clients:generate` rewrites it; `pnpm check` fails when it is stale.\n';

const KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);
const identifier = (name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name);
const pyString = (text) => JSON.stringify(text);
const refName = (ref) => ref.split('/').at(-1);

/** The Python type of a JSON Schema (as written in a string-quoted forward-ref-safe form). */
function typeOf(schema, quote = true) {
  if (!schema || Object.keys(schema).length === 0) return 'Any';
  if (schema.$ref) return quote ? pyString(refName(schema.$ref)) : refName(schema.$ref);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return union(variants.map((s) => typeOf(s, quote)));
  if (schema.const !== undefined) return `Literal[${JSON.stringify(schema.const)}]`;
  if (schema.enum)
    return `Literal[${schema.enum.map((v) => (v === null ? 'None' : JSON.stringify(v))).join(', ')}]`;
  if (Array.isArray(schema.type))
    return union(schema.type.map((type) => typeOf({ ...schema, type }, quote)));
  switch (schema.type) {
    case 'string':
      return 'str';
    case 'integer':
      return 'int';
    case 'number':
      return 'float';
    case 'boolean':
      return 'bool';
    case 'null':
      return 'None';
    case 'array':
      return `List[${typeOf(schema.items, quote)}]`;
    case 'object':
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object')
        return `Dict[str, ${typeOf(schema.additionalProperties, quote)}]`;
      return 'Dict[str, Any]';
    default:
      return 'Any';
  }
}

function union(types) {
  const unique = [...new Set(types)];
  if (unique.includes('Any')) return 'Any';
  if (unique.length === 1) return unique[0];
  const rest = unique.filter((t) => t !== 'None');
  const inner = rest.length === 1 ? rest[0] : `Union[${rest.join(', ')}]`;
  return unique.includes('None') ? `Optional[${inner}]` : inner;
}

const comment = (text, indent) =>
  text
    ? text
        .split('\n')
        .map((line) => `${indent}# ${line}`.trimEnd())
        .join('\n') + '\n'
    : '';

/** One TypedDict; a field the server always sends (or the client must send) is Required. */
function typedDict(name, schema) {
  const properties = Object.entries(schema.properties ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const required = new Set(schema.required ?? []);
  const field = (key, prop) => {
    const type = typeOf(prop);
    return required.has(key) ? `Required[${type}]` : `NotRequired[${type}]`;
  };
  const doc = schema.description ? `    ${pyString(schema.description)}\n` : '';
  if (properties.every(([key]) => identifier(key))) {
    const body = properties
      .map(([key, prop]) => `${comment(prop.description, '    ')}    ${key}: ${field(key, prop)}`)
      .join('\n');
    return `class ${name}(TypedDict, total=False):\n${doc}${body || (doc ? '' : '    pass')}\n`;
  }
  const entries = properties.map(([key, prop]) => `    ${pyString(key)}: ${field(key, prop)},`);
  return `${name} = TypedDict(\n  ${pyString(name)},\n  {\n${entries.join('\n')}\n  },\n  total=False,\n)\n`.replace(
    /\n {2}/g,
    '\n    ',
  );
}

function models(document) {
  const schemas = Object.entries(document.components?.schemas ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const isDict = (schema) => schema.type === 'object' || schema.properties;
  // Aliases (a union of dicts…) are evaluated at import: after every class they may name.
  const blocks = [
    ...schemas
      .filter(([, schema]) => isDict(schema))
      .map(([name, schema]) => typedDict(name, schema)),
    ...schemas
      .filter(([, schema]) => !isDict(schema))
      .map(
        ([name, schema]) =>
          `${comment(schema.description, '')}${name} = ${typeOf(schema, false)}\n`,
      ),
  ];
  return (
    `${HEADER}"""The roam API's schemas, as TypedDicts (what the API sends and accepts is plain JSON)."""\n\n` +
    'from __future__ import annotations\n\n' +
    'from typing import Any, Dict, List, Literal, NotRequired, Optional, Required, TypedDict, Union\n\n\n' +
    blocks.join('\n\n')
  );
}

const snake = (name) =>
  name
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/^_+|_+$/g, '');
const argName = (name) => {
  const n = snake(name);
  return KEYWORDS.has(n) || n === 'self' || n === 'body' ? `${n}_` : n;
};

/** Every operation as {name, method, path, pathParams, query, headers, body, returns}. */
function operationsOf(document) {
  const list = [];
  for (const [path, item] of Object.entries(document.paths ?? {}))
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = item[method];
      if (!op) continue;
      const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])];
      const success = Object.entries(op.responses ?? {}).find(([code]) => /^2/.test(code));
      const json = success?.[1]?.content?.['application/json']?.schema;
      const requestJson = op.requestBody?.content?.['application/json']?.schema;
      list.push({
        name: snake(op.operationId ?? `${method}_${path}`),
        summary: op.summary ?? op.description ?? '',
        method: method.toUpperCase(),
        // `{id}` style parameters; a `*path` wildcard segment is filled in like one.
        path: path.replace(/\*([A-Za-z_]+)/g, '{$1}'),
        pathParams: parameters.filter((p) => p.in === 'path'),
        query: parameters.filter((p) => p.in === 'query'),
        headers: parameters.filter((p) => p.in === 'header'),
        body: requestJson
          ? { type: typeOf(requestJson, false), required: Boolean(op.requestBody.required) }
          : undefined,
        returns: json ? typeOf(json, false) : success?.[0] === '204' ? 'None' : 'httpx.Response',
      });
    }
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function method(op, isAsync) {
  const args = ['self'];
  for (const p of op.pathParams) args.push(`${argName(p.name)}: ${typeOf(p.schema, false)}`);
  if (op.body?.required) args.push(`body: ${op.body.type}`);
  const keywords = [];
  if (op.body && !op.body.required) keywords.push(`body: Optional[${op.body.type}] = None`);
  for (const p of [...op.query, ...op.headers])
    keywords.push(`${argName(p.name)}: Optional[${typeOf(p.schema, false)}] = None`);
  if (keywords.length) args.push('*', ...keywords);
  const dict = (params) =>
    `{${params.map((p) => `${pyString(p.name)}: ${argName(p.name)}`).join(', ')}}`;
  const call = [
    pyString(op.method),
    pyString(op.path),
    `path_params=${dict(op.pathParams)}`,
    `query=${dict(op.query)}`,
    `headers=${dict(op.headers)}`,
    ...(op.body ? ['json=body'] : []),
    `returns=${pyString(op.returns === 'httpx.Response' ? 'response' : op.returns === 'None' ? 'none' : 'json')}`,
  ];
  const doc = op.summary ? `        ${pyString(`${op.method} ${op.path}: ${op.summary}`)}\n` : '';
  return (
    `    ${isAsync ? 'async ' : ''}def ${op.name}(${args.join(', ')}) -> ${op.returns}:\n${doc}` +
    `        return ${isAsync ? 'await ' : ''}self._call(${call.join(', ')})  # type: ignore[no-any-return]\n`
  );
}

function operations(document) {
  const ops = operationsOf(document);
  const cls = (name, isAsync) =>
    `class ${name}:\n` +
    `    """Every roam API operation, ${isAsync ? 'async' : 'blocking'}; \`_call\` is the transport."""\n\n` +
    `    ${isAsync ? 'async ' : ''}def _call(self, method: str, path: str, *, path_params: Dict[str, Any], query: Dict[str, Any], headers: Dict[str, Any], json: Any = None, returns: str) -> Any:  # noqa: E501\n` +
    '        raise NotImplementedError\n\n' +
    ops.map((op) => method(op, isAsync)).join('\n');
  return (
    `${HEADER}"""One typed method per operation of the roam API (operationId in snake_case)."""\n\n` +
    'from __future__ import annotations\n\n' +
    'from typing import Any, Dict, List, Literal, Optional, Union\n\n' +
    'import httpx\n\n' +
    'from .models import *  # noqa: F403\n\n\n' +
    `${cls('AsyncOperations', true)}\n\n${cls('SyncOperations', false)}`
  );
}

/** File name → content, for what clients/openapi.json generates. */
export async function generatePython(documentPath = DOCUMENT) {
  const document = JSON.parse(await readFile(documentPath, 'utf8'));
  return {
    '__init__.py': `${HEADER}from .models import *  # noqa: F403\nfrom .operations import AsyncOperations, SyncOperations\n`,
    'models.py': models(document),
    'operations.py': operations(document),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [file, content] of Object.entries(await generatePython()))
    await writeFile(`${OUTPUT_DIR}${file}`, content);
  console.log(`wrote ${OUTPUT_DIR}`);
}
