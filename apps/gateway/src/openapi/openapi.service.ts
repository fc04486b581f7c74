import { readFile } from 'node:fs/promises';

import { Inject, Injectable, type OnApplicationBootstrap, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { API_OPERATION, type ApiOperationOptions, LOGGER, PUBLIC_ROUTE } from '@roam/runtime';
import type { Logger } from 'pino';

import { REQUIRED_ROLE } from '../auth/principal.js';
import {
  buildOpenApiDocument,
  type OpenApiDocument,
  type RouteAuth,
  type RouteInfo,
} from './openapi.document.js';

const asList = (value: unknown): string[] =>
  value === undefined ? [''] : Array.isArray(value) ? (value as string[]) : [value as string];

export function joinPath(prefix: string, path: string): string {
  const joined = [prefix, path]
    .map((part) => part.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
  return `/${joined}`;
}

async function packageVersion(): Promise<string> {
  try {
    const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Walks every controller the app registered (Nest's DiscoveryService) and reads each route's
 * method, path, auth decorators and `@ApiOperation`, then builds the document once at boot.
 */
@Injectable()
export class OpenApiService implements OnApplicationBootstrap {
  private document?: OpenApiDocument;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const routes = this.routes();
    const missing = routes.filter((route) => !route.operation);
    if (missing.length > 0) {
      this.logger.warn(
        { routes: missing.map((route) => `${route.method.toUpperCase()} ${route.path}`) },
        'routes without @ApiOperation are left out of the OpenAPI document',
      );
    }
    this.document = buildOpenApiDocument(routes, {
      title: 'roam API',
      version: await packageVersion(),
      description:
        'Multi-tenant control plane for batch jobs on Kubernetes. Errors are `application/problem+json` (RFC 9457); switch on `type`. See docs/api.md for a walkthrough.',
    });
  }

  get(): OpenApiDocument {
    if (!this.document) throw new Error('the OpenAPI document is built at application bootstrap');
    return this.document;
  }

  /** Every HTTP route of the app, annotated or not. */
  routes(): RouteInfo[] {
    const routes: RouteInfo[] = [];
    const seen = new Set<unknown>();
    for (const wrapper of this.discovery.getControllers()) {
      const type = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!type || seen.has(type)) continue;
      seen.add(type);
      const prototype = type.prototype as Record<string, unknown>;
      const prefixes = asList(Reflect.getMetadata(PATH_METADATA, type));
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name] as () => unknown;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const targets = [handler, type];
        const role = this.reflector.getAllAndOverride<'admin' | 'tenant' | undefined>(
          REQUIRED_ROLE,
          targets,
        );
        const auth: RouteAuth = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)
          ? 'public'
          : (role ?? 'any-key');
        const operation = this.reflector.get<ApiOperationOptions | undefined>(
          API_OPERATION,
          handler,
        );
        for (const prefix of prefixes) {
          for (const path of asList(Reflect.getMetadata(PATH_METADATA, handler))) {
            routes.push({
              method: RequestMethod[method].toLowerCase(),
              path: joinPath(prefix, path),
              controller: type.name,
              handler: name,
              auth,
              operation,
            });
          }
        }
      }
    }
    return routes;
  }
}
