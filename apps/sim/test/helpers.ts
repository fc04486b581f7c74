// Shared by the simulator's integration tests: a bounded wait instead of sleeps.
import { KubeConfig } from '@kubernetes/client-node';
import { startSimulator, type RunningSimulator } from '../src/index.js';

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(
    `timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
  );
}

export async function startTestSimulator(
  speed = 200,
): Promise<{ sim: RunningSimulator; kc: KubeConfig }> {
  const sim = await startSimulator({ port: 0, speed });
  const kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfig);
  return { sim, kc };
}

export function statusCode(err: unknown): number | undefined {
  const e = err as { code?: number; statusCode?: number; body?: unknown };
  if (typeof e.code === 'number') return e.code;
  return e.statusCode;
}

export function statusBody(err: unknown): { reason?: string; code?: number; message?: string } {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { reason?: string };
    } catch {
      return {};
    }
  }
  return body && typeof body === 'object' ? body : {};
}
