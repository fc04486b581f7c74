import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { APP_CONFIG, LOGGER, Loop, type LoopHealth } from '@roam/runtime';
import { metrics, secondsSince } from '@roam/telemetry';
import type { Logger } from 'pino';

import { DependencyFailuresService } from '../dependencies/dependency-failures.service.js';
import type { SchedulerConfig } from '../scheduler.config.js';
import { AdmissionService } from './admission.service.js';
import { KueueAdmissionService } from './kueue/kueue-admission.service.js';
import { KueueInputsCheck } from './kueue/kueue-inputs-check.js';
import { KueueWorkloads } from './kueue/kueue-workloads.js';

/**
 * Runs admission on a timer (level-triggered: a lost message only delays) and at once when
 * woken by a submit or a finished job; each pass first acts on dependencies that failed. Never two cycles at a time in one process; across
 * processes the admission lock serialises them.
 */
@Injectable()
export class AdmissionLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loop: Loop;
  private cycles = 0;

  constructor(
    private readonly admission: AdmissionService,
    private readonly kueue: KueueAdmissionService,
    private readonly inputsCheck: KueueInputsCheck,
    private readonly dependencies: DependencyFailuresService,
    workloads: KueueWorkloads,
    @Inject(APP_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    workloads.onChange(() => this.wake());
    this.loop = new Loop({
      name: 'admission cycle',
      intervalMs: config.ADMISSION_INTERVAL_MS,
      runAtStart: true,
      failureLevel: 'error',
      logger,
      pass: () => this.run(),
    });
  }

  get health(): LoopHealth {
    return this.loop.health;
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.loop.stop();
  }

  /** Asks for a cycle soon; calls while one runs coalesce into one more. */
  wake(): void {
    this.loop.wake();
  }

  private async run(): Promise<void> {
    const started = performance.now();
    // Jobs whose dependency failed are settled first: woken by the same finished job.
    await this.dependencies.settle();
    try {
      // ROAM_ADMISSION=kueue: Kueue decides; the cycle creates Jobs and follows Workloads, and
      // answers roam's AdmissionCheck on Workloads that reserved quota (without waiting).
      if (this.config.ROAM_ADMISSION === 'kueue') this.inputsCheck.sweep();
      const result =
        this.config.ROAM_ADMISSION === 'kueue'
          ? await this.kueue.cycle()
          : await this.admission.cycle();
      metrics.admissionCycleDuration.observe(
        { outcome: result.leader ? 'leader' : 'standby' },
        secondsSince(started),
      );
      this.cycles += 1;
      if (this.cycles % 5 === 1 && this.config.ROAM_ADMISSION === 'roam')
        await this.admission.ensureCreated();
    } catch (error) {
      metrics.admissionCycleDuration.observe({ outcome: 'error' }, secondsSince(started));
      throw error;
    }
  }
}
