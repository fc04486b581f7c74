// The four patch flavours the apiserver accepts. Strategic merge keys are looked up by field
// name, which is exact for every built-in list the simulator's clients touch.
import { cloneJson } from '../store/json-equal.js';
import { errors } from './status.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return cloneJson(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value) as Json;
  }
  return out;
}

// Lists that merge by a key instead of being replaced (patchMergeKey in the Go types).
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  conditions: 'type',
  ownerReferences: 'uid',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  taints: 'key',
  addresses: 'type',
  replicatedJobs: 'name',
};
// Lists of scalars that merge as sets.
const SET_LISTS = new Set(['finalizers']);

export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return cloneJson(patch);
  if (patch['$patch'] === 'replace') {
    const copy = { ...patch };
    delete copy['$patch'];
    return stripDirectives(copy);
  }
  if (patch['$patch'] === 'delete') return undefined;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/') || key === '$retainKeys' || key === '$patch') continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(value))
        out[field] = cur.filter((x) => !value.includes(x));
      continue;
    }
    if (value === null) {
      delete out[key];
      continue;
    }
    const mergeKey = MERGE_KEYS[key];
    if (Array.isArray(value) && mergeKey && Array.isArray(out[key])) {
      out[key] = mergeList(out[key], value, mergeKey);
    } else if (Array.isArray(value) && SET_LISTS.has(key) && Array.isArray(out[key])) {
      const merged = [...out[key]];
      for (const item of value) if (!merged.includes(item)) merged.push(item);
      out[key] = merged;
    } else if (isObject(value)) {
      const merged = strategicMergePatch(out[key], value);
      if (merged === undefined) delete out[key];
      else out[key] = merged as Json;
    } else {
      out[key] = stripDirectives(value) as Json;
    }
  }
  return out;
}

function mergeList(current: Json[], patch: Json[], mergeKey: string): Json[] {
  if (patch.some((p) => isObject(p) && p['$patch'] === 'replace')) {
    return patch
      .filter((p) => !(isObject(p) && p['$patch'] === 'replace'))
      .map((p) => stripDirectives(p) as Json);
  }
  const out = [...current];
  for (const item of patch) {
    if (!isObject(item)) {
      out.push(item);
      continue;
    }
    const idx = out.findIndex((c) => isObject(c) && c[mergeKey] === item[mergeKey]);
    if (item['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) {
      out[idx] = strategicMergePatch(out[idx], item) as Json;
    } else {
      out.push(stripDirectives(item) as Json);
    }
  }
  return out;
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('$')) continue;
    out[k] = stripDirectives(v) as Json;
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw errors.badRequest(`invalid JSON pointer: ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function resolveParent(doc: unknown, parts: string[]): { parent: unknown; key: string } {
  let cur = doc;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(part)];
    else if (isObject(cur)) cur = cur[part];
    else cur = undefined;
    if (cur === undefined)
      throw errors.badRequest(`jsonpatch: path not found: /${parts.join('/')}`);
  }
  return { parent: cur, key: parts[parts.length - 1] ?? '' };
}

function getAt(doc: unknown, parts: string[]): unknown {
  let cur = doc;
  for (const part of parts) {
    if (Array.isArray(cur)) cur = cur[Number(part)];
    else if (isObject(cur)) cur = cur[part];
    else return undefined;
  }
  return cur;
}

function removeAt(doc: unknown, parts: string[]): unknown {
  const { parent, key } = resolveParent(doc, parts);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!(i >= 0 && i < parent.length))
      throw errors.badRequest(`jsonpatch remove: index out of range: ${key}`);
    return parent.splice(i, 1)[0];
  }
  if (isObject(parent) && key in parent) {
    const v = parent[key];
    delete parent[key];
    return v;
  }
  throw errors.badRequest(
    `jsonpatch remove operation does not apply: doc is missing key: /${parts.join('/')}`,
  );
}

function addAt(doc: unknown, parts: string[], value: unknown, replace: boolean): unknown {
  if (parts.length === 0) return cloneJson(value);
  const { parent, key } = resolveParent(doc, parts);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!(i >= 0 && i <= parent.length))
      throw errors.badRequest(`jsonpatch: index out of range: ${key}`);
    if (replace) parent[i] = cloneJson(value) as Json;
    else parent.splice(i, 0, cloneJson(value) as Json);
  } else if (isObject(parent)) {
    if (replace && !(key in parent)) {
      throw errors.badRequest(
        `jsonpatch replace operation does not apply: doc is missing key: /${parts.join('/')}`,
      );
    }
    parent[key] = cloneJson(value) as Json;
  } else {
    throw errors.badRequest(`jsonpatch: parent of /${parts.join('/')} is not a container`);
  }
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw errors.badRequest('json patch must be an array of operations');
  let doc = cloneJson(target);
  for (const raw of ops as JsonPatchOp[]) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw errors.badRequest('invalid json patch operation');
    }
    const parts = parsePointer(raw.path);
    switch (raw.op) {
      case 'add':
        doc = addAt(doc, parts, raw.value, false);
        break;
      case 'replace':
        doc = addAt(doc, parts, raw.value, true);
        break;
      case 'remove':
        removeAt(doc, parts);
        break;
      case 'move': {
        const v = removeAt(doc, parsePointer(raw.from ?? ''));
        doc = addAt(doc, parts, v, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, parts, getAt(doc, parsePointer(raw.from ?? '')), false);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, parts)) !== JSON.stringify(raw.value)) {
          throw errors.invalidTest(raw.path);
        }
        break;
      default:
        throw errors.badRequest(`unexpected json patch op: ${raw.op}`);
    }
  }
  return doc;
}
