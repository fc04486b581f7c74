import { Module } from '@nestjs/common';

import { LogsModule } from '../logs/logs.module.js';
import { DashboardService } from './dashboard.service.js';
import { SeedDashboardController } from './seed-dashboard.controller.js';
import { SeedJobsController } from './seed-jobs.controller.js';
import { SeedRepository } from './seed.repository.js';

/** SUMO-K8's tenant read routes (`/jobs/{id}`, logs, SSE, dashboard), served as the seed documents them. */
@Module({
  imports: [LogsModule],
  controllers: [SeedJobsController, SeedDashboardController],
  providers: [SeedRepository, DashboardService],
})
export class SeedModule {}
