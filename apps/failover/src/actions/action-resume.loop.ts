import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { APP_CONFIG, LOGGER } from '@roam/runtime';
import type { Logger } from 'pino';

import { ActionRunner } from './action-runner.service.js';
import { ActionRunsRepository } from './action-runs.repository.js';

/**
 * Level-triggered (docs/architecture.md#rule-3): on a timer, resumes every action left pending or running,
 * e.g. by a worker that died mid-action or a command that was lost. The runner's per-action
 * lock keeps this from running an action another worker is running.
 */
@Injectable()
export class ActionResumeLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly actions: ActionRunsRepository,
    private readonly runner: ActionRunner,
    @Inject(APP_CONFIG) private readonly config: { RECONCILE_INTERVAL_MS: number },
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.pass = this.pass.then(() => this.resume());
    }, this.config.RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.pass;
  }

  async resume(): Promise<void> {
    try {
      for (const id of await this.actions.unfinishedIds(50)) {
        if (this.stopped) return;
        try {
          await this.runner.run(id);
        } catch (error) {
          this.logger.warn({ actionId: id, err: error }, 'action resume failed; will retry');
        }
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'action resume pass failed');
    }
  }
}
