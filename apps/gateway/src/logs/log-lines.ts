/**
 * Pure helpers for log text: splitting chunks into lines, Kubernetes timestamp prefixes,
 * exact `since` filtering and Server-Sent Events framing. No I/O here.
 */

/** Turns arbitrary chunks into whole lines; `end()` returns the last line if it had no newline. */
export class LineSplitter {
  private partial = '';

  push(chunk: string): string[] {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    return lines;
  }

  end(): string[] {
    const rest = this.partial;
    this.partial = '';
    return rest === '' ? [] : [rest];
  }
}

export interface LogLine {
  /** When the line was written, if the source said so. */
  at?: Date;
  text: string;
}

const STAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) (.*)$/s;

/** Splits the RFC3339 prefix Kubernetes adds with `timestamps=true`; a line without one is kept whole. */
export function parseStamped(raw: string): LogLine {
  const match = STAMP.exec(raw);
  if (!match) return { text: raw };
  const at = new Date(match[1]!);
  return Number.isNaN(at.getTime()) ? { text: raw } : { at, text: match[2]! };
}

export function formatLine(line: LogLine, timestamps: boolean): string {
  return timestamps && line.at ? `${line.at.toISOString()} ${line.text}` : line.text;
}

/** Kubernetes takes whole seconds; the exact instant is applied afterwards with `keepSince`. */
export function sinceSecondsOf(since: Date, now: Date): number {
  return Math.max(1, Math.ceil((now.getTime() - since.getTime()) / 1000));
}

export const keepSince = (line: LogLine, since: Date | undefined): boolean =>
  since === undefined || line.at === undefined || line.at.getTime() >= since.getTime();

/**
 * Keeps the last `size` items pushed, in a ring: however long the input, it holds at most
 * `size` items, and a push costs the same whatever `size` is.
 */
export class Tail<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  /** How many items it holds now (never more than `size`). */
  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.size <= 0) return;
    if (this.items.length < this.size) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.size;
  }

  /** Oldest first. */
  values(): T[] {
    if (this.items.length < this.size) return [...this.items];
    return [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}

/** One SSE message per log line. A carriage return cannot travel inside `data:`, so it is dropped. */
export const sseData = (text: string): string => `data: ${text.replace(/\r/g, '')}\n\n`;

export const sseEvent = (event: string, data: unknown): string =>
  `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
