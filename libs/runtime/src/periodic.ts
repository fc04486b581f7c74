import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';

/**
 * Work run on a timer (retention sweeps and the like): never two runs at once, a failed run
 * logged and retried at the next tick, and `stop()` waits for a run in progress. The first run
 * comes one interval after `start()`.
 */
export class Periodic<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T> | undefined;

  constructor(
    private readonly what: string,
    private readonly intervalMs: number,
    private readonly work: () => Promise<T>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.work();
    try {
      await this.running;
    } catch (error) {
      this.logger.warn({ err: error }, `${this.what} failed`);
    } finally {
      this.running = undefined;
    }
  }
}

/**
 * A provider whose `sweep(now)` runs every `intervalMs` while the app is up (see `Periodic`),
 * and which tests can call directly.
 */
export abstract class PeriodicSweep<T> implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly periodic: Periodic<T>;

  protected constructor(what: string, intervalMs: number, logger: Logger) {
    this.periodic = new Periodic(what, intervalMs, () => this.sweep(new Date()), logger);
  }

  abstract sweep(now: Date): Promise<T>;

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.periodic.stop();
  }
}
