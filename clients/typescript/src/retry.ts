export interface RetryOptions {
  /** How many times a 429 is retried before it is returned (default 3). */
  retries?: number;
  /** Longest wait honoured from `Retry-After`, in ms (default 30 s). */
  maxDelayMs?: number;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; 1 s when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (!header) return 1000;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? 1000 : Math.max(0, date - now);
}

/**
 * A fetch that answers 429 by waiting as long as `Retry-After` says and sending the request
 * again, up to `retries` times. The request is cloned before each try so its body can be sent
 * again; a streamed body cannot, and is sent once.
 */
export function retryingFetch(
  inner: typeof fetch,
  { retries = 3, maxDelayMs = 30_000 }: RetryOptions = {},
): (request: Request) => Promise<Response> {
  return async (request) => {
    for (let attempt = 0; ; attempt += 1) {
      const replayable = request.body === null || attempt < retries;
      const response = await inner(replayable ? request.clone() : request);
      if (response.status !== 429 || attempt >= retries || request.bodyUsed) return response;
      const wait = Math.min(maxDelayMs, retryAfterMs(response.headers.get('retry-after')));
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
}
