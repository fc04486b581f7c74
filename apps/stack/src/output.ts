/**
 * The launcher's terminal output: its own messages marked `[stack]`, every child's lines
 * prefixed with the child's name, pino JSON either passed through or rendered compactly.
 */
export interface OutputOptions {
  pretty: boolean;
  color: boolean;
  write?: (text: string) => void;
  writeError?: (text: string) => void;
  /**
   * Coalesce lines written in the same turn of the event loop into one write (the children's
   * lines arrive in bursts; one write per line is most of the relay's cost). `flush()` writes
   * what is pending, and must run before the process exits.
   */
  coalesce?: boolean;
}

const COLORS = [36, 32, 33, 34, 35, 96, 92, 93, 94, 95];
const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
/** pino fields that are noise on one machine (or repeat the prefix). */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'app', 'name', 'v']);

export class Output {
  private width = 'stack'.length;
  private readonly colorOf = new Map<string, number>();
  private readonly write: (text: string) => void;
  private readonly writeError: (text: string) => void;
  private readonly sink: (text: string) => void;
  private readonly errorSink: (text: string) => void;
  private readonly pending: { out: string[]; err: string[] } = { out: [], err: [] };
  private flushScheduled = false;

  constructor(private readonly options: OutputOptions) {
    this.sink = options.write ?? ((text) => process.stdout.write(text));
    this.errorSink = options.writeError ?? ((text) => process.stderr.write(text));
    if (options.coalesce) {
      this.write = (text) => this.enqueue(this.pending.out, text);
      this.writeError = (text) => this.enqueue(this.pending.err, text);
    } else {
      this.write = this.sink;
      this.writeError = this.errorSink;
    }
  }

  /** Writes every coalesced line still pending. */
  flush(): void {
    this.flushScheduled = false;
    const { out, err } = this.pending;
    if (out.length) this.sink(out.splice(0).join(''));
    if (err.length) this.errorSink(err.splice(0).join(''));
  }

  private enqueue(queue: string[], text: string): void {
    queue.push(text);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Names known up front keep the prefixes aligned. */
  register(names: string[]): void {
    for (const name of names) {
      this.width = Math.max(this.width, name.length);
      if (!this.colorOf.has(name))
        this.colorOf.set(name, COLORS[this.colorOf.size % COLORS.length] ?? 36);
    }
  }

  /** A message of the launcher itself. */
  info(message: string): void {
    this.write(`${this.prefix('stack', true)} ${message}\n`);
  }

  error(message: string): void {
    this.writeError(`${this.prefix('stack', true)} ${this.paint(31, 'error:')} ${message}\n`);
  }

  child(name: string, stream: 'stdout' | 'stderr', line: string): void {
    const text = `${this.prefix(name, false)} ${this.options.pretty ? renderPino(line, this.options.color) : line}\n`;
    if (stream === 'stderr') this.writeError(text);
    else this.write(text);
  }

  private prefix(name: string, launcher: boolean): string {
    const label = `[${name}]`.padEnd(this.width + 2);
    if (launcher) return this.paint(1, label);
    return this.paint(this.colorOf.get(name) ?? 37, label);
  }

  private paint(code: number, text: string): string {
    return this.options.color ? `\u001b[${code}m${text}\u001b[0m` : text;
  }
}

/** `HH:MM:SS LEVEL message key=value …` for a pino line; anything else unchanged. */
export function renderPino(line: string, color = false): string {
  if (!line.startsWith('{')) return line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  // pino writes numeric or (with formatters) labelled levels, epoch or ISO times.
  const time =
    typeof record.time === 'number' || typeof record.time === 'string'
      ? new Date(record.time).toISOString().slice(11, 19)
      : '';
  const levelNumber =
    typeof record.level === 'number'
      ? record.level
      : Number(
          Object.entries(LEVELS).find(
            ([, label]) => label === String(record.level).toUpperCase(),
          )?.[0] ?? 30,
        );
  const level = (LEVELS[levelNumber] ?? String(record.level)).padEnd(5);
  const paintedLevel =
    color && levelNumber >= 40 ? `\u001b[${levelNumber >= 50 ? 31 : 33}m${level}\u001b[0m` : level;
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [time, paintedLevel, typeof record.msg === 'string' ? record.msg : '', ...fields]
    .filter(Boolean)
    .join(' ');
}
