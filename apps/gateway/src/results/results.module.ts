import { Module } from '@nestjs/common';

import { objectStoreProvider } from '@roam/runtime';
import { ResultsController, CompatResultsController } from './results.controller.js';
import { ResultsRepository } from './results.repository.js';
import { ResultsService } from './results.service.js';
import { ResultsTogetherController } from './results-together.controller.js';
import { ResultsTogetherService } from './results-together.service.js';

/** Job results: listing, downloads, zip, delete (docs/storage.md); an array's or a group's together. */
@Module({
  controllers: [ResultsController, CompatResultsController, ResultsTogetherController],
  providers: [objectStoreProvider, ResultsRepository, ResultsService, ResultsTogetherService],
})
export class ResultsModule {}
