import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { APP_CONFIG, LOGGER } from '@roam/runtime';
import { metrics, secondsSince } from '@roam/telemetry';
import type { Logger } from 'pino';

import type { SchedulerConfig } from '../scheduler.config.js';
import { AdmissionService } from './admission.service.js';

/**
 * Runs admission on a timer (level-triggered: a lost message only delays) and at once when
 * woken by a submit or a finished job. Never two cycles at a time in one process; across
 * processes the admission lock serialises them.
 */
@Injectable()
export class AdmissionLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private cycles = 0;

  constructor(
    private readonly admission: AdmissionService,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.wake(), this.config.ADMISSION_INTERVAL_MS);
    this.timer.unref();
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Asks for a cycle soon; calls while one runs coalesce into one more. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async run(): Promise<void> {
    const started = performance.now();
    try {
      const result = await this.admission.cycle();
      metrics.admissionCycleDuration.observe(
        { outcome: result.leader ? 'leader' : 'standby' },
        secondsSince(started),
      );
      this.cycles += 1;
      if (this.cycles % 5 === 1) await this.admission.ensureCreated();
    } catch (error) {
      metrics.admissionCycleDuration.observe({ outcome: 'error' }, secondsSince(started));
      this.logger.error({ err: error }, 'admission cycle failed');
    }
  }
}
