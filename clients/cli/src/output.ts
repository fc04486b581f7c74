import { stringify } from 'yaml';

export type Format = 'table' | 'json' | 'yaml' | 'name';
export const FORMATS: Format[] = ['table', 'json', 'yaml', 'name'];

/** Colour only when writing to a terminal and NO_COLOR is unset. */
export const useColour = (stream: NodeJS.WriteStream = process.stdout): boolean =>
  Boolean(stream.isTTY) && !process.env.NO_COLOR;

const STATUS_COLOURS: Record<string, number> = {
  pending: 33,
  running: 36,
  succeeded: 32,
  failed: 31,
  cancelled: 90,
};

export function colourStatus(status: string): string {
  const code = STATUS_COLOURS[status];
  return code !== undefined && useColour() ? `\u001b[${code}m${status}\u001b[0m` : status;
}

/** Aligned columns; the width ignores colour escapes. */
export function table(headers: string[], rows: string[][]): string {
  const visible = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '').length;
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => visible(row[i] ?? ''))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visible(cell)),
      )
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export interface Printable<T> {
  headers: string[];
  row(item: T): string[];
  name(item: T): string;
}

export function render<T>(format: Format, items: T[], view: Printable<T>, single = false): string {
  switch (format) {
    case 'json':
      return JSON.stringify(single ? items[0] : items, null, 2);
    case 'yaml':
      return stringify(single ? items[0] : items).trimEnd();
    case 'name':
      return items.map((item) => view.name(item)).join('\n');
    case 'table':
      return table(
        view.headers,
        items.map((item) => view.row(item)),
      );
  }
}

/** "3m ago" style age from an ISO timestamp. */
export function age(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}
