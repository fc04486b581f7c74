// Kubernetes resource quantities ("500m", "2Gi", "1e3") as plain numbers in base units.
// Floats are precise enough for a simulator; we never need exact decimal round-trips.
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const PATTERN = /^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/;

export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = PATTERN.exec(value.trim());
  if (!match) return undefined;
  const base = Number(match[1]);
  if (!Number.isFinite(base)) return undefined;
  if (match[2]) return base * 10 ** Number(match[2].slice(1));
  return base * (SUFFIX[match[3] ?? ''] ?? 1);
}

export function isQuantity(value: unknown): boolean {
  return parseQuantity(value) !== undefined;
}

// Formats the way the apiserver tends to: whole numbers plain, CPU-like fractions in milli,
// byte counts in the largest exact binary suffix.
export function formatQuantity(value: number, resource = ''): string {
  if (!Number.isInteger(value)) {
    const milli = Math.round(value * 1000);
    return `${milli}m`;
  }
  if (resource.includes('memory') || resource.includes('storage')) {
    for (const [suffix, factor] of [
      ['Ti', 2 ** 40],
      ['Gi', 2 ** 30],
      ['Mi', 2 ** 20],
      ['Ki', 2 ** 10],
    ] as const) {
      if (value !== 0 && value % factor === 0) return `${value / factor}${suffix}`;
    }
  }
  return String(value);
}

export type ResourceList = Record<string, number>;

export function parseResourceList(list: unknown): ResourceList {
  const out: ResourceList = {};
  if (!list || typeof list !== 'object') return out;
  for (const [key, raw] of Object.entries(list as Record<string, unknown>)) {
    const parsed = parseQuantity(raw);
    if (parsed !== undefined) out[key] = parsed;
  }
  return out;
}

export function addInto(target: ResourceList, add: ResourceList, sign = 1): void {
  for (const [key, value] of Object.entries(add)) target[key] = (target[key] ?? 0) + sign * value;
}
