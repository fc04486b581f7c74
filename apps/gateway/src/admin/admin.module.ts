import { Module } from '@nestjs/common';

import { LogsModule } from '../logs/logs.module.js';
import { AdminController } from './admin.controller.js';
import { AdminRepository } from './admin.repository.js';
import { AdminService } from './admin.service.js';
import { ParkedController } from './parked.controller.js';
import { ParkedService } from './parked.service.js';

@Module({
  imports: [LogsModule],
  controllers: [AdminController, ParkedController],
  providers: [AdminRepository, AdminService, ParkedService],
})
export class AdminModule {}
