/**
 * JSON Merge Patch (RFC 7396): objects merge key by key, recursively; arrays and scalars in the
 * patch replace what was there; `null` removes the key. It is how a submit's overrides apply
 * onto a template, so `{"env": {"A": "1"}}` adds one variable and keeps the template's others,
 * while `{"command": [...]}` replaces the whole command.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
