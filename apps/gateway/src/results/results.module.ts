import { Module } from '@nestjs/common';

import { objectStoreProvider } from '@roam/runtime';
import { ArrayResultsController } from './array-results.controller.js';
import { ArrayResultsService } from './array-results.service.js';
import { ResultsController, CompatResultsController } from './results.controller.js';
import { ResultsRepository } from './results.repository.js';
import { ResultsService } from './results.service.js';

/** Job results: listing, downloads, zip, delete (docs/storage.md); an array's together. */
@Module({
  controllers: [ResultsController, CompatResultsController, ArrayResultsController],
  providers: [objectStoreProvider, ResultsRepository, ResultsService, ArrayResultsService],
})
export class ResultsModule {}
