import { setTimeout as delay } from 'node:timers/promises';

/**
 * Waits until `probe` returns a value other than `undefined`/`false`, re-checking every
 * `intervalMs`, and fails naming `what` after `timeoutMs`. This waits on a condition, not for
 * a fixed time: the deadline only bounds a test that would otherwise hang.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 15_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${lastError ? `: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}` : ''}`,
      );
    }
    await delay(intervalMs);
  }
}
