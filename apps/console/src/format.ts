export const formatTime = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString('en-GB', { hour12: false }) : '—';

export function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  switch (n % 10) {
    case 1:
      return `${n}st`;
    case 2:
      return `${n}nd`;
    case 3:
      return `${n}rd`;
    default:
      return `${n}th`;
  }
}

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;
export const STATUSES = ['pending', 'running', ...TERMINAL_STATUSES] as const;

/** Saves a response body as a file the way a browser download does. */
export async function saveResponse(response: Response, filename: string): Promise<void> {
  const url = URL.createObjectURL(await response.blob());
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = filename;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  // Revoke once the click has been handled; the download holds its own reference.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Micro-dollars as dollars: `1250000` → `$1.25`. */
export const usd = (micros: number): string => `$${(micros / 1_000_000).toFixed(2)}`;

/** Seconds in words: `3725` → `1 h 2 min`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
