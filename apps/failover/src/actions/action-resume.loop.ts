import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { APP_CONFIG, LOGGER, Loop, type LoopHealth } from '@roam/runtime';
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
  private readonly loop: Loop;

  constructor(
    private readonly actions: ActionRunsRepository,
    private readonly runner: ActionRunner,
    @Inject(APP_CONFIG) config: { RECONCILE_INTERVAL_MS: number },
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.loop = new Loop({
      name: 'action resume pass',
      intervalMs: config.RECONCILE_INTERVAL_MS,
      logger,
      pass: (signal) => this.resume(signal),
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

  /** One pass; stops between actions once `signal` aborts (the app is shutting down). */
  async resume(signal?: AbortSignal): Promise<void> {
    for (const id of await this.actions.unfinishedIds(50)) {
      if (signal?.aborted) return;
      try {
        await this.runner.run(id);
      } catch (error) {
        this.logger.warn({ actionId: id, err: error }, 'action resume failed; will retry');
      }
    }
  }
}
