// A multi-pod attempt's whole log, merged from its replicas' stored logs without holding them:
// a k-way merge by time over one line stream per pod (docs/storage.md#results-and-logs-of-multi-pod-jobs).
import { StringDecoder } from 'node:string_decoder';

import { MinHeap } from '@roam/domain';

/**
 * The whole log's line for one line of a replica's log (`<stamp> [<replica>] <rest>\n`), and
 * its time. Kubernetes trims trailing zeros of the fraction, so stamps are compared as times;
 * a line without one sorts first (time 0).
 */
export function wholeLogLine(line: string, replica: string): { at: number; text: string } {
  const space = line.indexOf(' ');
  const stamp = space < 0 ? line : line.slice(0, space);
  const rest = space < 0 ? '' : line.slice(space + 1);
  const at = Date.parse(stamp);
  return { at: Number.isNaN(at) ? 0 : at, text: `${stamp} [${replica}] ${rest}\n` };
}

/** Bytes of a pod's part of a replica log read by one request while the logs are merged. */
export const MERGE_WINDOW_BYTES = 256 * 1024;

/**
 * `bytes` bytes from `start` of a stored object, a window at a time, each window read whole by
 * a request of its own before it is given out: while the merge waits on other pods, nothing of
 * this one stays open (no idle connection to time out, no file held), and it holds one window.
 */
export async function* inWindows(
  read: (start: number, end: number) => Promise<AsyncIterable<Buffer | string>>,
  start: number,
  bytes: number,
  window = MERGE_WINDOW_BYTES,
): AsyncGenerator<Buffer> {
  for (let at = start; at < start + bytes; at += window) {
    const parts: Buffer[] = [];
    for await (const chunk of await read(at, Math.min(start + bytes, at + window) - 1))
      parts.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    yield Buffer.concat(parts);
  }
}

/**
 * The non-empty lines of a stream, a batch per chunk read (one await per chunk, not per line),
 * split on `\n` only (a `\r` of a progress bar stays in its line, as `text.split('\n')`
 * keeps it), decoded as UTF-8 across chunk boundaries.
 */
export async function* linesOf(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    const batch = lines.filter((line) => line !== '');
    if (batch.length > 0) yield batch;
  }
  rest += decoder.end();
  if (rest !== '') yield [rest];
}

/** One pod's lines of its replica's log, in time order. */
export interface LogSource {
  replica: string;
  /** The replica's place among the attempt's replicas: first among lines of the same time. */
  order: number;
  /** How many lines of the replica's log come before this pod's. */
  firstLine: number;
  /** Batches of lines (`linesOf`). */
  lines: AsyncIterable<string[]>;
}

/** A source's next line, and what is left of its batch. */
interface Head {
  at: number;
  order: number;
  seq: number;
  text: string;
  replica: string;
  batch: string[];
  /** Where the next line is in `batch`. */
  offset: number;
  next: AsyncIterator<string[]>;
}

const before = (a: Head, b: Head) =>
  a.at !== b.at ? a.at < b.at : a.order !== b.order ? a.order < b.order : a.seq < b.seq;

/** Lines merged into chunks of about this many characters for the store's writes. */
const CHUNK_CHARS = 64 * 1024;

/**
 * The whole log: every source's lines (each in time order, as a pod's log is) merged by time,
 * each marked with its replica (`wholeLogLine`), in chunks. Lines of the same time keep the
 * order of replicas, then of lines within a replica: the order a stable sort of every line
 * gives, with one line per source in memory instead of every line.
 */
export async function* mergeByTime(sources: readonly LogSource[]): AsyncGenerator<string> {
  const heap = new MinHeap<Head>(before);
  /** Pushes the source's next line of its batch. */
  const take = (head: Head) => {
    const line = wholeLogLine(head.batch[head.offset]!, head.replica);
    head.offset += 1;
    head.seq += 1;
    head.at = line.at;
    head.text = line.text;
    heap.push(head);
  };
  /** Reads the source's next batch, and pushes its first line; nothing once it has ended. */
  const refill = async (head: Head) => {
    for (;;) {
      const step = await head.next.next();
      if (step.done) return;
      if (step.value.length === 0) continue;
      head.batch = step.value;
      head.offset = 0;
      take(head);
      return;
    }
  };
  await Promise.all(
    sources.map((source) =>
      refill({
        at: 0,
        order: source.order,
        // One less: `seq` counts up as each line is taken, the first one's is `firstLine`.
        seq: source.firstLine - 1,
        text: '',
        replica: source.replica,
        batch: [],
        offset: 0,
        next: source.lines[Symbol.asyncIterator](),
      }),
    ),
  );
  let chunk = '';
  for (let head = heap.pop(); head; head = heap.pop()) {
    chunk += head.text;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
    // Most lines come from the batch in hand: no await for them.
    if (head.offset < head.batch.length) take(head);
    else await refill(head);
  }
  if (chunk !== '') yield chunk;
}
