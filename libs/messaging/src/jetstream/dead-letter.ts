/** What lands on `roam.dlq.<subject>`: enough to diagnose and to replay the original. */
export interface DeadLetter {
  originalSubject: string;
  consumer: string;
  deliveries: number;
  error: { message: string; stack?: string };
  /** ISO time. */
  failedAt: string;
  headers: Record<string, string>;
  /** The raw payload as text, or base64 when it is not valid UTF-8 (then `payloadEncoding` says so). */
  payload: string;
  payloadEncoding?: 'base64';
}

const STACK_LINES = 8;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function encodePayload(data: Uint8Array): Pick<DeadLetter, 'payload' | 'payloadEncoding'> {
  try {
    return { payload: strictUtf8.decode(data) };
  } catch {
    return { payload: Buffer.from(data).toString('base64'), payloadEncoding: 'base64' };
  }
}

/**
 * Normalises whatever a handler failed with. Nest's default exception filter turns an Error
 * into `{ status: 'error', message }` and an RpcException into its payload, so plain objects
 * with a `message` are common here.
 */
export function describeError(err: unknown): DeadLetter['error'] {
  if (err instanceof Error) {
    const stack = err.stack?.split('\n').slice(0, STACK_LINES).join('\n');
    return stack ? { message: err.message, stack } : { message: err.message };
  }
  if (
    typeof err === 'object' &&
    err !== null &&
    'message' in err &&
    typeof err.message === 'string'
  ) {
    return { message: err.message };
  }
  if (typeof err === 'string') return { message: err };
  try {
    return { message: JSON.stringify(err) ?? String(err) };
  } catch {
    return { message: String(err) };
  }
}

/** An Error for any rejection value, keeping the message of Nest's `{ status, message }` objects. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(describeError(err).message, { cause: err });
}
