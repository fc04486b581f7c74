import { Module } from '@nestjs/common';

import { objectStoreProvider } from '@roam/runtime';
import { ResultsController, CompatResultsController } from './results.controller.js';
import { ResultsRepository } from './results.repository.js';
import { ResultsService } from './results.service.js';

/** Job results: listing, downloads, zip, delete (docs/storage.md). */
@Module({
  controllers: [ResultsController, CompatResultsController],
  providers: [objectStoreProvider, ResultsRepository, ResultsService],
})
export class ResultsModule {}
