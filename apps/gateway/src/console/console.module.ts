import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';

import { consoleHandler, listConsoleFiles } from './console-files.js';

/**
 * The web console (apps/console), served at /console from the same origin as the API. A
 * middleware rather than a controller: these are static files, not API routes, so they stay
 * out of the OpenAPI document and never pass the API's guards (the page itself holds no data;
 * every call it makes carries the user's key and is checked like any other).
 */
@Module({})
export class ConsoleModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(consoleHandler(listConsoleFiles())).forRoutes('console', 'console/*path');
  }
}
