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

/** A dead letter as operators list it: where it sits in the stream, and why it is there. */
export interface StoredDeadLetter {
  seq: number;
  letter: DeadLetter;
}

/** Connection pieces the reader needs (a `JetStreamConnection` fits). */
interface DeadLetterSource {
  manager: {
    streams: {
      info(stream: string): Promise<{ state: { first_seq: number; last_seq: number } }>;
      getMessage(stream: string, query: { seq: number }): Promise<{ json<T>(): T } | null>;
    };
  };
  options: { subjects: { streamName(stream: 'deadLetters'): string } };
}

/**
 * Dead letters in stream order, after sequence `after` (keyset paging: pass the last `seq`
 * back). Reads by sequence, skipping gaps left by deleted messages; scans at most `limit · 4`
 * sequences per call, so `next` may come back with fewer items than asked for.
 */
export async function listDeadLetters(
  source: DeadLetterSource,
  options: { after?: number; limit: number },
): Promise<{ items: StoredDeadLetter[]; next: number | null }> {
  const stream = source.options.subjects.streamName('deadLetters');
  const { state } = await source.manager.streams.info(stream);
  const items: StoredDeadLetter[] = [];
  let seq = Math.max((options.after ?? 0) + 1, state.first_seq);
  const scanEnd = Math.min(state.last_seq, seq + options.limit * 4 - 1);
  for (; seq <= scanEnd && items.length < options.limit; seq += 1) {
    let message: { json<T>(): T } | null;
    try {
      message = await source.manager.streams.getMessage(stream, { seq });
    } catch {
      continue; // deleted or expired since `info`
    }
    if (message) items.push({ seq, letter: message.json<DeadLetter>() });
  }
  const last = seq - 1;
  return { items, next: last < state.last_seq ? last : null };
}
