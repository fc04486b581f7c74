import { Controller, Get } from '@nestjs/common';
import { ApiOperation, Public } from '@roam/runtime';
import { z } from 'zod';

import { StorageSweepLoop } from './storage-sweep.loop.js';

const storageHealthSchema = z
  .object({
    status: z.enum(['ok', 'behind']),
    backlog_jobs: z.number().int(),
    oldest_unstored_age_seconds: z.number(),
    sweep: z.object({
      running: z.boolean(),
      last_success_at: z.string().nullable(),
      consecutive_failures: z.number().int(),
    }),
  })
  .meta({ id: 'StorageHealth' });

type StorageHealth = z.infer<typeof storageHealthSchema>;

/**
 * How far behind the storage worker is: finished jobs whose logs and results are not stored
 * yet (their Kubernetes Jobs are kept until they are) and how long the oldest has waited.
 * `behind` is information, not unreadiness: the worker is working the backlog off.
 */
@Public()
@Controller('health')
export class StorageHealthController {
  constructor(private readonly sweep: StorageSweepLoop) {}

  @ApiOperation({
    summary: 'Storage backlog: finished jobs not stored yet, and how long the oldest has waited',
    tags: ['health'],
    responses: { 200: storageHealthSchema },
  })
  @Get('storage')
  async storage(): Promise<StorageHealth> {
    const backlog = await this.sweep.measure();
    const loop = this.sweep.health;
    return {
      status: backlog.jobs > 0 ? 'behind' : 'ok',
      backlog_jobs: backlog.jobs,
      oldest_unstored_age_seconds: Math.round(backlog.oldestAgeSeconds * 1000) / 1000,
      sweep: {
        running: loop.running,
        last_success_at: loop.lastSuccessAt?.toISOString() ?? null,
        consecutive_failures: loop.consecutiveFailures,
      },
    };
  }
}
