import type { Logger } from 'pino';

import type { Outbox } from './outbox.js';

/**
 * Runs the outbox relay on a timer in every app that writes to the outbox. Several replicas
 * may run it at once: rows are claimed with `FOR UPDATE SKIP LOCKED`.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private passes = 0;

  constructor(
    private readonly outbox: Outbox,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      this.running = this.pass();
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.outbox.flushMarks();
  }

  private async pass(): Promise<void> {
    try {
      await this.outbox.relayOnce();
      this.passes += 1;
      if (this.passes % 600 === 0) await this.outbox.prune();
    } catch (error) {
      this.logger.warn({ err: error }, 'outbox relay pass failed');
    }
  }
}
