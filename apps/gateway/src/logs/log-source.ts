import type { LogLine } from './log-lines.js';

/** Where one attempt's log can be read right now. */
export type LogLocation =
  | { kind: 'kubernetes'; namespace: string; pod: string; container: string }
  | { kind: 'archive'; storageKey: string }
  | { kind: 'none'; reason: LogUnavailableReason };

/**
 * Why there is no log to show (the `Roam-Log-Reason` header):
 * - `not-started`: the job has no pod yet (pending);
 * - `container-waiting`: the pod exists but its container has not started (image pull…);
 * - `pod-gone`: the job's pod was deleted (TTL cleanup) and no archive of its log exists;
 * - `pod-not-found`: the job says it runs but no pod of this attempt is visible.
 */
export type LogUnavailableReason =
  'not-started' | 'container-waiting' | 'pod-gone' | 'pod-not-found';

export interface LogReadOptions {
  tailLines?: number;
  sinceSeconds?: number;
  follow: boolean;
}

/**
 * A place logs come from. `stream` calls `onLine` once per line, in order, and resolves when
 * the source has no more to give: at once without `follow`, when the container ends with it.
 * Aborting `signal` (client gone) must release the underlying connection.
 * Lines carry their timestamp when the source knows it, so `since` can be applied exactly.
 */
export interface LogSource<L extends LogLocation = LogLocation> {
  stream(
    location: L,
    options: LogReadOptions,
    onLine: (line: LogLine) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

/** Thrown by a source when the container exists but has not started, so there is nothing to read yet. */
export class ContainerNotStarted extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'ContainerNotStarted';
  }
}

/**
 * Port to the object-storage archive of finished pods' logs (written by the storage worker).
 * An archive is the container log as Kubernetes returned it with `timestamps=true`: one
 * RFC3339 timestamp and a space before every line. Until that worker lands, `NoLogArchive`
 * stands in and no `log_archives` rows exist, so it is never asked.
 */
export interface LogArchiveReader {
  open(storageKey: string, signal: AbortSignal): Promise<AsyncIterable<Buffer | string>>;
  /** Whether the object is there (a replica with no pod in its attempt has no log of its own). */
  has(storageKey: string): Promise<boolean>;
}

export const LOG_ARCHIVE = Symbol('LOG_ARCHIVE');

export class NoLogArchive implements LogArchiveReader {
  has(): Promise<boolean> {
    return Promise.resolve(false);
  }

  open(storageKey: string): Promise<AsyncIterable<Buffer | string>> {
    return Promise.reject(
      new Error(`log archive ${storageKey} exists but no object store is configured`),
    );
  }
}
