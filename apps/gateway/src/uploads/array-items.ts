import { StringDecoder } from 'node:string_decoder';

/** How an uploaded items file holds one element's `ROAM_ARRAY_ITEM` per row. */
export type ArrayItemsFormat = 'lines' | 'csv' | 'jsonl';

export const ARRAY_ITEMS_FORMATS = ['lines', 'csv', 'jsonl'] as const;

/** The format a file name suggests (`.csv`, `.jsonl`/`.ndjson`); `lines` otherwise. */
export function formatOfFilename(filename: string): ArrayItemsFormat {
  const lower = filename.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return 'lines';
}

/** Why an items file was refused: the first bad row (1-based line), or the file as a whole. */
export class ItemsRejected extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}

/**
 * Fields of one CSV row (RFC 4180), or an error. A row is one line: a quoted field may hold
 * commas and doubled quotes, not a line break.
 */
export function csvFields(row: string): number | string {
  let fields = 1;
  let i = 0;
  while (i <= row.length) {
    if (row[i] === '"') {
      i++;
      for (;;) {
        if (i >= row.length) return 'a quoted field is not closed (a row cannot span lines)';
        if (row[i] === '"') {
          if (row[i + 1] === '"') i += 2;
          else break;
        } else i++;
      }
      i++;
      if (i < row.length && row[i] !== ',') return `a quoted field is followed by "${row[i]}"`;
    } else {
      while (i < row.length && row[i] !== ',') {
        if (row[i] === '"') return 'a quote inside an unquoted field';
        i++;
      }
    }
    if (i >= row.length) break;
    fields++;
    i++;
  }
  return fields;
}

export interface ItemsLimits {
  /** Longest row, in characters (`ROAM_ARRAY_ITEM`'s bound). */
  maxLength: number;
  /** Most rows (`ARRAY_MAX_SIZE`). */
  maxCount: number;
}

/**
 * Splits an uploaded items file into rows as it arrives, checks each against `format` and
 * gives back one item per line (`\r` dropped, a CSV header taken out into `columns`). Holds at
 * most one row between chunks: a row longer than `maxLength` is refused without being buffered
 * whole. The first bad row throws `ItemsRejected`; `count` is the number of items given back.
 */
export class ItemsReader {
  count = 0;
  /** A CSV file's header row, given to every element as `ROAM_ARRAY_COLUMNS`. */
  columns: string | undefined;
  private line = 0;
  private carry = '';
  private fields = 0;
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly format: ArrayItemsFormat,
    private readonly limits: ItemsLimits,
  ) {}

  /** The complete rows of `chunk` (with what was carried over), one item per line. */
  write(chunk: Buffer): string {
    const text = this.decoder.write(chunk);
    let out = '';
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end < 0) break;
      out += this.row(this.carry + text.slice(start, end));
      this.carry = '';
      start = end + 1;
    }
    this.carry += text.slice(start);
    // +1: a `\r` before the line break is not part of the row.
    if (this.carry.length > this.limits.maxLength + 1) throw this.tooLong(this.line + 1);
    return out;
  }

  /** The last row (a file need not end with a line break); refuses a file with no item. */
  end(): string {
    const rest = this.carry + this.decoder.end();
    this.carry = '';
    const out = rest.length > 0 ? this.row(rest) : '';
    if (this.count === 0) throw new ItemsRejected('the file has no items');
    return out;
  }

  private tooLong(line: number): ItemsRejected {
    return new ItemsRejected(
      `longer than ${this.limits.maxLength} characters (ROAM_ARRAY_ITEM's bound)`,
      line,
    );
  }

  /** One row checked, as the line to give back ('' for a CSV header). */
  private row(raw: string): string {
    this.line++;
    const row = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (row.length > this.limits.maxLength) throw this.tooLong(this.line);
    if (row.trim().length === 0) throw new ItemsRejected('empty row', this.line);
    if (this.format === 'csv') {
      const fields = csvFields(row);
      if (typeof fields === 'string') throw new ItemsRejected(fields, this.line);
      if (this.columns === undefined) {
        this.columns = row;
        this.fields = fields;
        return '';
      }
      if (fields !== this.fields)
        throw new ItemsRejected(`${fields} fields, the header has ${this.fields}`, this.line);
    } else if (this.format === 'jsonl') {
      try {
        JSON.parse(row);
      } catch (error) {
        throw new ItemsRejected(`not JSON (${(error as Error).message})`, this.line);
      }
    }
    // Items are stored as text, as written (a JSON escape of NUL is six characters of text).
    if (row.includes('\u0000'))
      throw new ItemsRejected('holds a NUL character, which roam cannot store', this.line);
    this.count++;
    if (this.count > this.limits.maxCount)
      throw new ItemsRejected(`more than ${this.limits.maxCount} items (ARRAY_MAX_SIZE)`);
    return `${row}\n`;
  }
}
