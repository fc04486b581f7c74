import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { ApiOperation, ProblemError, problemTypes, Public } from '@roam/runtime';
import type { Response } from 'express';
import { z } from 'zod';

import {
  DOCS_HTML,
  INIT_SCRIPT,
  INIT_SCRIPT_NAME,
  SWAGGER_ASSETS,
  swaggerUiDir,
} from './docs.page.js';
import { OpenApiService } from './openapi.service.js';

const assetName = z.enum([INIT_SCRIPT_NAME, ...Object.keys(SWAGGER_ASSETS)]);

@Public()
@Controller()
export class OpenApiController {
  constructor(private readonly openapi: OpenApiService) {}

  @ApiOperation({
    summary: 'This OpenAPI 3.1 document',
    tags: ['docs'],
    responses: {
      200: { description: 'OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) },
    },
  })
  @Get('openapi.json')
  document() {
    return this.openapi.get();
  }

  @ApiOperation({
    summary: 'Interactive API docs (Swagger UI, served from the package)',
    tags: ['docs'],
    responses: { 200: { schema: z.string(), contentType: 'text/html' } },
  })
  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  docs(): string {
    return DOCS_HTML;
  }

  @ApiOperation({
    summary: 'Static files of the docs page',
    tags: ['docs'],
    params: { file: assetName },
    responses: {
      200: { description: 'CSS, JavaScript or an icon', schema: z.string(), contentType: '*/*' },
    },
    errors: [404],
  })
  @Get('docs/assets/:file')
  asset(@Param('file') file: string, @Res() response: Response): void {
    if (file === INIT_SCRIPT_NAME) {
      response.type('text/javascript; charset=utf-8').send(INIT_SCRIPT);
      return;
    }
    const type = Object.hasOwn(SWAGGER_ASSETS, file) ? SWAGGER_ASSETS[file] : undefined;
    if (!type) throw new ProblemError(404, problemTypes.notFound, 'Not found', `no asset ${file}`);
    response.setHeader('Content-Type', type);
    response.setHeader('Cache-Control', 'public, max-age=86400');
    // `root` keeps send's dotfile rule off the package path (pnpm stores it under .pnpm).
    response.sendFile(file, { root: swaggerUiDir() });
  }
}
