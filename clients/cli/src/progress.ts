import { SingleBar } from 'cli-progress';

/**
 * A byte progress bar on stderr when it is a terminal; nothing otherwise, so pipes and logs
 * stay clean.
 */
export function progressBar(label: string): {
  update(done: number, total: number): void;
  stop(): void;
} {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {percentage}% | {value}/{total} bytes`,
    hideCursor: true,
    clearOnComplete: false,
  });
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Where the elements of a batch, group or array are, as the API counts them. */
export interface PhaseCounts {
  total: number;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

const phases = (c: PhaseCounts) =>
  `pending ${c.pending}  running ${c.running}  succeeded ${c.succeeded}  failed ${c.failed}  cancelled ${c.cancelled}`;

/**
 * Progress of many jobs on stderr: on a terminal a live bar of finished elements with the
 * count in every phase; otherwise one plain line each time a count changes (for CI logs).
 */
export function phaseProgress(label: string): {
  update(counts: PhaseCounts): void;
  stop(): void;
} {
  const finished = (c: PhaseCounts) => c.succeeded + c.failed + c.cancelled;
  if (!process.stderr.isTTY) {
    let last = '';
    return {
      update(counts) {
        const line = `${label}: ${finished(counts)}/${counts.total} finished (${phases(counts)})`;
        if (line !== last) process.stderr.write(`${line}\n`);
        last = line;
      },
      stop: () => undefined,
    };
  }
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${label} [{bar}] {value}/{total} finished | {phases}`,
    hideCursor: true,
    clearOnComplete: false,
  });
  let started = false;
  return {
    update(counts) {
      if (!started) {
        bar.start(counts.total, 0, { phases: phases(counts) });
        started = true;
      }
      bar.setTotal(counts.total);
      bar.update(finished(counts), { phases: phases(counts) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
