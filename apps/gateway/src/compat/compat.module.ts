import { Module } from '@nestjs/common';

import { LogsModule } from '../logs/logs.module.js';
import { DashboardService } from './dashboard.service.js';
import { CompatDashboardController } from './compat-dashboard.controller.js';
import { CompatJobsController } from './compat-jobs.controller.js';
import { CompatRepository } from './compat.repository.js';

/** SUMO-K8's tenant read routes (`/jobs/{id}`, logs, SSE, dashboard), served as SUMO-K8 documents them. */
@Module({
  imports: [LogsModule],
  controllers: [CompatJobsController, CompatDashboardController],
  providers: [CompatRepository, DashboardService],
})
export class CompatModule {}
