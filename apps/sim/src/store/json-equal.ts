/**
 * Whether two JSON-shaped values hold the same data, as their JSON would say: a property whose
 * value is undefined counts as absent, and key order does not matter. Stops at the first
 * difference and allocates nothing, where comparing `JSON.stringify` of both serialises both
 * whole (that was most of the cost of every store write).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // Anything but plain objects and arrays (a Date, say) is compared as JSON would write it.
  if (special(a) || special(b)) return JSON.stringify(a) === JSON.stringify(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 1) if (!jsonEqual(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let count = 0;
  for (const key in x) {
    if (x[key] === undefined) continue;
    count += 1;
    if (!jsonEqual(x[key], y[key])) return false;
  }
  for (const key in y) if (y[key] !== undefined) count -= 1;
  return count === 0;
}

function special(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto !== Object.prototype && proto !== null;
}

/**
 * A deep copy of a JSON-shaped value (what every stored object is): plain objects and arrays
 * are copied member by member, anything else non-plain (a Date) goes through `structuredClone`.
 * About ten times faster than `structuredClone` on a pod, which serialises and deserialises;
 * every store write copies the object it changes.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i += 1) out[i] = cloneJson(value[i]);
    return out as T;
  }
  if (special(value)) return structuredClone(value);
  const out: Record<string, unknown> = {};
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    // JSON.parse makes `__proto__` an own property; assigning it would set the prototype.
    if (key === '__proto__')
      Object.defineProperty(out, key, {
        value: cloneJson(source[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[key] = cloneJson(source[key]);
  }
  return out as T;
}
