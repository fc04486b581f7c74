import { Module } from '@nestjs/common';

import { ActionsController } from './actions.controller.js';
import { ActionRequestsRepository } from './action-requests.repository.js';
import { ActionsService } from './actions.service.js';

@Module({
  controllers: [ActionsController],
  providers: [ActionRequestsRepository, ActionsService],
})
export class ActionsModule {}
