// Label and field selectors in the apiserver's string syntax.
import { ApiError, errors } from './status.js';

type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: Set<string> }
  | { key: string; op: 'exists' | 'notexists' };

export type Matcher = (labels: Record<string, string> | undefined) => boolean;

function splitTopLevel(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of input) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

export function parseLabelSelector(selector: string | undefined): Matcher {
  if (!selector || !selector.trim()) return () => true;
  const reqs: Requirement[] = [];
  for (const part of splitTopLevel(selector)) {
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=]+)\s+(in|notin)\s+\((.*)\)$/.exec(part))) {
      const values = new Set(
        m[3]!
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== ''),
      );
      reqs.push({ key: m[1]!, op: m[2] as 'in' | 'notin', values });
    } else if ((m = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(part))) {
      reqs.push({ key: m[1]!, op: 'neq', value: m[2]! });
    } else if ((m = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(part))) {
      reqs.push({ key: m[1]!, op: 'eq', value: m[2]! });
    } else if ((m = /^!\s*([^\s!=]+)$/.exec(part))) {
      reqs.push({ key: m[1]!, op: 'notexists' });
    } else if ((m = /^([^\s!=()]+)$/.exec(part))) {
      reqs.push({ key: m[1]!, op: 'exists' });
    } else {
      throw errors.badRequest(`unable to parse requirement: ${part}`);
    }
  }
  return (labels) => {
    const l = labels ?? {};
    for (const r of reqs) {
      const has = Object.prototype.hasOwnProperty.call(l, r.key);
      const v = l[r.key];
      switch (r.op) {
        case 'eq':
          if (v !== r.value) return false;
          break;
        case 'neq':
          if (v === r.value) return false;
          break;
        case 'in':
          if (!has || !r.values.has(v!)) return false;
          break;
        case 'notin':
          if (has && r.values.has(v!)) return false;
          break;
        case 'exists':
          if (!has) return false;
          break;
        case 'notexists':
          if (has) return false;
          break;
      }
    }
    return true;
  };
}

export function matchLabelSelectorObject(
  selector: unknown,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector || typeof selector !== 'object') return false;
  const s = selector as {
    matchLabels?: Record<string, string>;
    matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
  };
  const l = labels ?? {};
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const vals = e.values ?? [];
    if (e.operator === 'In' && !(has && vals.includes(l[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && vals.includes(l[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export type FieldMatcher = (obj: unknown) => boolean;

export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function parseFieldSelector(
  selector: string | undefined,
  allowed?: Set<string>,
): FieldMatcher {
  if (!selector || !selector.trim()) return () => true;
  const reqs: Array<{ path: string; neq: boolean; value: string }> = [];
  for (const part of selector
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([^!=]+?)\s*(!=|==|=)\s*(.*)$/.exec(part);
    if (!m) throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const path = m[1]!.trim();
    if (allowed && !allowed.has(path)) {
      throw new ApiError(400, 'BadRequest', `field label not supported: ${path}`);
    }
    reqs.push({ path, neq: m[2] === '!=', value: m[3]!.trim() });
  }
  return (obj) => {
    for (const r of reqs) {
      const raw = getPath(obj, r.path);
      const v =
        typeof raw === 'string'
          ? raw
          : typeof raw === 'number' || typeof raw === 'boolean'
            ? String(raw)
            : '';
      if (r.neq ? v === r.value : v !== r.value) return false;
    }
    return true;
  };
}
