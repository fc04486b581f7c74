import { Controller, Get, HttpCode, Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '@roam/db';
import { JetStreamConnection } from '@roam/messaging';
import { z } from 'zod';

import { ApiOperation } from './openapi.js';
import { ProblemError, problemTypes } from './problem.js';
import { Public } from './public.js';
import { PRISMA } from './tokens.js';

export interface ReadinessReport {
  status: 'ready' | 'unready';
  checks: { postgres: boolean; nats: boolean };
}

@Injectable()
export class HealthService {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    private readonly nats: JetStreamConnection,
  ) {}

  async check(): Promise<ReadinessReport> {
    const [postgres, nats] = await Promise.all([
      this.prisma.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      ),
      Promise.resolve(this.nats.isHealthy()),
    ]);
    return { status: postgres && nats ? 'ready' : 'unready', checks: { postgres, nats } };
  }

  /** The report when ready; a 503 problem naming what is unreachable otherwise. */
  async ready(): Promise<ReadinessReport> {
    const report = await this.check();
    if (report.status !== 'ready') {
      const down = Object.entries(report.checks)
        .filter(([, up]) => !up)
        .map(([name]) => name);
      throw new ProblemError(
        503,
        problemTypes.unavailable,
        'Not ready',
        `unreachable: ${down.join(', ')}`,
        {
          checks: report.checks,
        },
      );
    }
    return report;
  }
}

const readinessSchema = z
  .object({
    status: z.enum(['ready', 'unready']),
    checks: z.object({ postgres: z.boolean(), nats: z.boolean() }),
  })
  .meta({ id: 'Readiness' });

/** Probes for Kubernetes and the local supervisor: live = the process answers; ready = its dependencies do. */
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @ApiOperation({
    summary: 'Liveness: the process answers',
    tags: ['health'],
    responses: { 200: z.object({ status: z.literal('ok') }) },
  })
  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @ApiOperation({
    summary: 'Readiness: Postgres and NATS answer; 503 naming what is unreachable',
    tags: ['health'],
    responses: { 200: readinessSchema },
    errors: [503],
  })
  @Get('ready')
  ready(): Promise<ReadinessReport> {
    return this.health.ready();
  }
}
