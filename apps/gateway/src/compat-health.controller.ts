import { Controller, Get } from '@nestjs/common';
import { ApiOperation, HealthService, Public, type ReadinessReport } from '@roam/runtime';

import { readinessSchema, compatHealthSchema } from './openapi/common.schemas.js';

/** The replaced systems' probe routes: `GET /health` (SUMO-K8, ROAM) and `GET /ready` (SUMO-K8). */
@Public()
@Controller()
export class CompatHealthController {
  constructor(private readonly health: HealthService) {}

  @ApiOperation({
    summary: 'Health with the state of each dependency (SUMO-K8, ROAM job API)',
    tags: ['health', 'seed'],
    responses: { 200: compatHealthSchema },
  })
  @Get('health')
  async status(): Promise<{
    status: 'healthy' | 'degraded';
    service: string;
    checks: ReadinessReport['checks'];
  }> {
    const report = await this.health.check();
    return {
      status: report.status === 'ready' ? 'healthy' : 'degraded',
      service: 'roam-gateway',
      checks: report.checks,
    };
  }

  @ApiOperation({
    summary: 'Readiness (SUMO-K8); 503 naming what is unreachable',
    tags: ['health', 'seed'],
    responses: { 200: readinessSchema },
    errors: [503],
  })
  @Get('ready')
  ready(): Promise<ReadinessReport> {
    return this.health.ready();
  }
}
