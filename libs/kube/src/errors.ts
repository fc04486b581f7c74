/** A failed Kubernetes API call, with the `Status` body's reason (NotFound, AlreadyExists, …). */
export class KubeError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
    /** The server's `Retry-After` (429, 503), in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

export const isNotFound = (error: unknown): boolean =>
  error instanceof KubeError && error.status === 404;
export const isAlreadyExists = (error: unknown): boolean =>
  error instanceof KubeError && error.status === 409 && error.reason === 'AlreadyExists';
export const isConflict = (error: unknown): boolean =>
  error instanceof KubeError && error.status === 409 && error.reason !== 'AlreadyExists';
export const isForbidden = (error: unknown): boolean =>
  error instanceof KubeError && error.status === 403;

interface ApiExceptionLike {
  code?: number;
  body?: unknown;
  message?: string;
  headers?: Record<string, string>;
}

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date; undefined when absent or bad. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** client-node throws `ApiException` with the raw `Status` body; this turns it into a KubeError. */
export function toKubeError(error: unknown): unknown {
  const api = error as ApiExceptionLike;
  if (typeof api?.code !== 'number') return error;
  let status: { reason?: string; message?: string; details?: unknown } = {};
  if (typeof api.body === 'string') {
    try {
      status = JSON.parse(api.body) as typeof status;
    } catch {
      status = { message: api.body };
    }
  } else if (api.body && typeof api.body === 'object') {
    status = api.body;
  }
  return new KubeError(
    api.code,
    status.reason ?? 'Unknown',
    status.message ?? api.message ?? `HTTP ${api.code}`,
    status.details,
    parseRetryAfter(api.headers?.['retry-after']),
  );
}
