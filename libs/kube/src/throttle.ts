import { KubeError } from './errors.js';

/**
 * How a `Kube` client treats the API server, as client-go's `rest.Config` does: a token bucket
 * (`qps` tokens a second, up to `burst` at once) in front of every request, a per-request
 * timeout, and a bounded retry of transient failures.
 */
export interface KubeClientOptions {
  /** Requests per second on average; 0 = no client-side limit. */
  qps: number;
  /** Requests allowed at once before `qps` applies. */
  burst: number;
  /** One object call (request and response body) may take this long. */
  requestTimeoutMs: number;
  /** Further attempts after a transient failure (connection reset, timeout, 429, 5xx). */
  retries: number;
  /** `logs()` fails when its stream sends nothing for this long (a stalled connection). */
  logIdleTimeoutMs: number;
}

/** Defaults sized for a real API server, which sheds load with 429 + Retry-After past them. */
export const DEFAULT_KUBE_CLIENT: KubeClientOptions = {
  qps: 500,
  burst: 1000,
  requestTimeoutMs: 30_000,
  retries: 3,
  logIdleTimeoutMs: 30_000,
};

/** Longest wait one `Retry-After` may impose before the next attempt. */
const MAX_RETRY_AFTER_MS = 30_000;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A token bucket: `take()` resolves when the caller may send. Waiters are served in order, and
 * each wait is computed, not polled, so a queue of thousands costs one timer each.
 */
export class TokenBucket {
  private tokens: number;
  private updated = performance.now();

  constructor(
    private readonly qps: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Milliseconds the caller must wait before sending; 0 when a token was free. */
  reserve(): number {
    if (this.qps <= 0) return 0;
    // Tokens go negative while callers wait: each waiter holds a reservation in line.
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updated) / 1000) * this.qps);
    this.updated = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  async take(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await sleep(wait);
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** A request that got no complete answer in time. */
export class KubeTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeTimeoutError';
  }
}

/** Worth another attempt: the server was busy or the connection failed, not a refusal. */
export function isTransient(error: unknown): boolean {
  if (error instanceof KubeTimeoutError) return true;
  if (error instanceof KubeError)
    return error.status === 429 || (error.status >= 500 && error.status !== 501);
  let cause: unknown = error;
  for (let depth = 0; depth < 4 && cause; depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/** How long to wait before attempt `attempt + 1`: the server's Retry-After, else jittered backoff. */
export function retryDelayMs(error: unknown, attempt: number): number {
  if (error instanceof KubeError && error.retryAfterMs !== undefined)
    return Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS);
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Runs `attempt` under the bucket, retrying transient failures up to `retries` times. Each
 * attempt takes its own token, so retries count against the rate like any other request.
 */
export async function throttled<T>(
  bucket: TokenBucket,
  retries: number,
  attempt: () => Promise<T>,
  onRetry?: (error: unknown, delayMs: number) => void,
): Promise<T> {
  for (let tried = 0; ; tried += 1) {
    await bucket.take();
    try {
      return await attempt();
    } catch (error) {
      if (tried >= retries || !isTransient(error)) throw error;
      const delay = retryDelayMs(error, tried);
      onRetry?.(error, delay);
      await sleep(delay);
    }
  }
}
