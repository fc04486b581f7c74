/**
 * Kubernetes resource quantities ("100m", "2", "1.5", "512Mi", "2Gi", "1e3") in the canonical
 * integer units roam stores: CPU in millicores, memory in bytes.
 */
const QUANTITY =
  /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
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

export class QuantityError extends Error {}

/** The quantity's value in base units (cores for CPU, bytes for memory). */
export function parseQuantity(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new QuantityError(`invalid quantity ${input}`);
    return input;
  }
  const match = QUANTITY.exec(input.trim());
  if (!match)
    throw new QuantityError(`"${input}" is not a Kubernetes quantity (e.g. 500m, 2, 4Gi)`);
  const [, number, exponent, suffix] = match;
  const base = Number(number);
  const scale = exponent ? 10 ** Number(exponent.slice(1)) : suffix ? (SUFFIX[suffix] ?? 1) : 1;
  return base * scale;
}

/** CPU in whole millicores, rounding up as the kubelet does. */
export function cpuMillis(input: string | number): number {
  return Math.ceil(parseQuantity(input) * 1000 - 1e-9);
}

/** Memory in whole bytes, rounding up. */
export function memoryBytes(input: string | number): number {
  return Math.ceil(parseQuantity(input) - 1e-9);
}

export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

export function formatMemory(bytes: number): string {
  for (const [suffix, size] of [
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}
