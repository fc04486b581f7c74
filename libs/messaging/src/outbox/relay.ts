import type { Outbox } from './outbox.js';

/**
 * What runs the relay's passes on a timer: the runtime's loop helper (no overlap, backoff on
 * errors, a stop that waits for the pass in progress), seen from here.
 */
export interface RelaySchedule {
  start(): void;
  stop(): Promise<void>;
  /** The loop's health (the runtime's `LoopHealth`), reported by readiness. */
  readonly health?: { name: string; running: boolean; consecutiveFailures: number };
}

/**
 * Runs the outbox relay on a timer in every app that writes to the outbox. Several replicas
 * may run it at once: rows are claimed with `FOR UPDATE SKIP LOCKED`.
 */
export class OutboxRelay {
  private readonly schedule: RelaySchedule;
  private passes = 0;

  constructor(
    private readonly outbox: Outbox,
    schedule: (pass: () => Promise<void>) => RelaySchedule,
  ) {
    this.schedule = schedule(() => this.pass());
  }

  get health(): RelaySchedule['health'] {
    return this.schedule.health;
  }

  start(): void {
    this.schedule.start();
  }

  async stop(): Promise<void> {
    await this.schedule.stop();
    await this.outbox.flushMarks();
  }

  /** One pass; every 600th also deletes published rows past their retention. */
  private async pass(): Promise<void> {
    await this.outbox.relayOnce();
    this.passes += 1;
    if (this.passes % 600 === 0) await this.outbox.prune();
  }
}
