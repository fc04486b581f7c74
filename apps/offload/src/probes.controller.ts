import { Controller, Get } from '@nestjs/common';
import {
  HealthService,
  ProblemError,
  problemTypes,
  Public,
  type ReadinessReport,
} from '@roam/runtime';

import { OffloadLoop } from './offload.loop.js';

/** The RunPod controller's probes: `/healthz` (the process answers), `/readyz` (deps answer, informer synced). */
@Public()
@Controller()
export class ProbesController {
  constructor(
    private readonly health: HealthService,
    private readonly loop: OffloadLoop,
  ) {}

  @Get('healthz')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async ready(): Promise<ReadinessReport & { informer: boolean }> {
    const report = await this.health.ready();
    if (!this.loop.isSynced())
      throw new ProblemError(
        503,
        problemTypes.unavailable,
        'Not ready',
        'the Job informer has not synced yet',
      );
    return { ...report, informer: true };
  }
}
