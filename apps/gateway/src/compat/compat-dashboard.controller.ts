import { Controller, Get } from '@nestjs/common';
import { ApiOperation } from '@roam/runtime';

import { CurrentTenant, TenantOnly, type TenantPrincipal } from '../auth/principal.js';
import { DashboardService } from './dashboard.service.js';
import { type Dashboard, dashboardSchema } from './compat.schemas.js';

@TenantOnly()
@Controller('tenants/me')
export class CompatDashboardController {
  constructor(private readonly dashboards: DashboardService) {}

  @ApiOperation({
    summary: "The calling tenant's limits, quota usage and jobs (SUMO-K8)",
    tags: ['seed', 'tenants'],
    responses: { 200: dashboardSchema },
  })
  @Get('dashboard')
  dashboard(@CurrentTenant() caller: TenantPrincipal): Promise<Dashboard> {
    return this.dashboards.dashboard(caller.tenantId);
  }
}
