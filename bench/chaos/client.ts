// The tenants' side of the run: HTTP calls that survive a gateway being killed mid-request by
// retrying with the same Idempotency-Key, and record every id the gateway accepted (2xx).
import { randomUUID } from 'node:crypto';

import { sleep } from './random.js';

export interface Answer {
  status: number;
  body: unknown;
}

/**
 * One call, retried on connection errors, 5xx, 429 and 409 in flight with the same
 * Idempotency-Key until it gets a definite answer or `attempts` run out (then undefined:
 * accepted or not is unknown). Enough attempts to outlast a dead gateway's key lease.
 */
export async function call(
  url: string,
  init: {
    method?: string;
    token: string;
    body?: unknown;
    form?: () => FormData;
    idempotent?: boolean;
  },
  attempts = 40,
): Promise<Answer | undefined> {
  const key = init.idempotent === false ? undefined : randomUUID();
  for (let i = 0; i < attempts; i += 1) {
    try {
      const response = await fetch(url, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${init.token}`,
          ...(key && init.method === 'POST' ? { 'idempotency-key': key } : {}),
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: init.form
          ? init.form()
          : init.body !== undefined
            ? JSON.stringify(init.body)
            : undefined,
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      // 409 in flight: the first attempt under this key still holds it (or its dead gateway's
      // lease has not lapsed yet); the key is ours to retry after Retry-After.
      const inFlight = response.status === 409 && text.includes('idempotency-key-in-flight');
      if (response.status >= 500 || response.status === 429 || inFlight) {
        const after = Number(response.headers.get('retry-after') ?? 0) * 1000;
        await sleep(Math.max(after, 250 + i * 100));
        continue;
      }
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: response.status, body };
    } catch {
      await sleep(250 + i * 100);
    }
  }
  return undefined;
}
