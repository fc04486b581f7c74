import type { ApiOperationOptions, ApiRequestBody, ApiResponse } from '@roam/runtime';
import { z } from 'zod';

import { problemSchema } from './common.schemas.js';
import { type JsonSchema, SchemaCollector } from './json-schemas.js';

/** Who may call a route, from `@Public()`, `@AdminOnly()`, `@TenantOnly()`. */
export type RouteAuth = 'public' | 'admin' | 'tenant' | 'any-key';

export interface RouteInfo {
  method: string;
  /** Express-style, e.g. `/api/v1/jobs/:id`. */
  path: string;
  controller: string;
  handler: string;
  auth: RouteAuth;
  operation?: ApiOperationOptions;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  servers?: { url: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, unknown>;
  };
}

const TAGS: Record<string, string> = {
  tenants: 'Tenants, their limits and API keys',
  jobs: 'Submit, list, read, explain and cancel jobs',
  groups: 'Job groups: summary per phase, cancel, list',
  arrays: 'Job arrays: one spec as many indexed elements, summary, elements, cancel',
  templates: 'Job templates: yours and the built-ins',
  events: 'Your event log, paged or as Server-Sent Events',
  webhooks: 'Webhook endpoints (Standard Webhooks), their deliveries and attempts',
  logs: 'Job logs: text, follow, Server-Sent Events',
  usage: 'Your quota use over time and fair-share standing',
  admin: 'Cluster and cross-tenant views for admins',
  // `seed` is the published name of the compat routes' tag; clients' generated code uses it.
  seed: 'Routes kept from the systems roam replaces (SUMO-K8, the failover controller), in their shapes',
  health: 'Probes',
  docs: 'This document and its interactive viewer',
};

const REASONS: Record<number, string> = {
  400: 'Invalid request (every bad field is listed in `errors`)',
  401: 'Missing or invalid API key',
  403: 'The key may not use this route',
  404: 'Not found (another tenant’s object is a 404 too)',
  409: 'Conflict with the current state',
  413: 'Body too large',
  415: 'Unsupported media type',
  422: 'Unprocessable',
  429: 'Rate limited (see `Retry-After`)',
  503: 'A dependency is unreachable',
};

const AUTH_NOTE: Record<RouteAuth, string> = {
  public: 'No API key needed.',
  admin: 'Needs an admin key (`sk-admin-…` or the bootstrap token).',
  tenant: 'Needs a tenant API key.',
  'any-key': 'Needs a tenant key (for itself) or an admin key.',
};

/**
 * `/api/v1/jobs/:id` → `/api/v1/jobs/{id}` and the names of its parameters. A wildcard
 * (`*path`, the rest of the path, slashes included) becomes `{path}` too, listed in `wildcards`.
 */
export function openApiPath(path: string): { path: string; params: string[]; wildcards: string[] } {
  const params: string[] = [];
  const wildcards: string[] = [];
  // `\:batch` (escaped in the route) is a literal colon (a custom method), not a parameter.
  const converted = path.replace(
    /(\\?)([:*])([A-Za-z0-9_]+)/g,
    (_, escaped: string, kind: string, name: string) => {
      if (escaped) return `${kind}${name}`;
      params.push(name);
      if (kind === '*') wildcards.push(name);
      return `{${name}}`;
    },
  );
  return { path: converted, params, wildcards };
}

function isResponseSpec(value: z.ZodType | ApiResponse): value is ApiResponse {
  return !(value instanceof z.ZodType);
}

function isRequestBodySpec(value: z.ZodType | ApiRequestBody): value is ApiRequestBody {
  return !(value instanceof z.ZodType);
}

function accepts(schema: z.ZodType, value: unknown): boolean {
  return schema.safeParse(value).success;
}

/** Builds the OpenAPI 3.1 document of the annotated routes. */
export function buildOpenApiDocument(
  routes: RouteInfo[],
  info: { title: string; version: string; description: string },
): OpenApiDocument {
  const schemas = new SchemaCollector();
  const problemRef = schemas.convert(problemSchema, 'output');
  const problem = (status: number) => ({
    description: REASONS[status] ?? 'Error',
    content: { 'application/problem+json': { schema: problemRef } },
  });
  const paths: OpenApiDocument['paths'] = {};
  const usedTags = new Set<string>();

  const requestBodyOf = (body: z.ZodType | ApiRequestBody) => {
    const spec: ApiRequestBody = isRequestBodySpec(body)
      ? body
      : { content: { 'application/json': body }, required: !accepts(body, undefined) };
    return {
      ...(spec.description ? { description: spec.description } : {}),
      required: spec.required ?? true,
      content: Object.fromEntries(
        Object.entries(spec.content).map(([type, schema]) => [
          type,
          { schema: schemas.convert(schema, 'input') },
        ]),
      ),
    };
  };

  for (const route of routes) {
    const op = route.operation;
    if (!op) continue;
    const { path, params, wildcards } = openApiPath(route.path);
    const parameters: Record<string, unknown>[] = params.map((name) => {
      const schema = op.params?.[name];
      const json = schema ? schemas.convert(schema, 'input') : { type: 'string' };
      const wildcard = wildcards.includes(name);
      const description = [
        typeof json.description === 'string' ? json.description : undefined,
        wildcard
          ? 'The rest of the path: it may hold `/` (send each segment percent-encoded, the slashes as they are).'
          : undefined,
      ]
        .filter(Boolean)
        .join(' ');
      return {
        name,
        in: 'path',
        required: true,
        schema: json,
        ...(description ? { description } : {}),
        ...(wildcard ? { 'x-roam-wildcard': true } : {}),
      };
    });
    if (op.query) {
      const json = schemas.convert(op.query, 'input');
      const required = new Set((json.required as string[] | undefined) ?? []);
      for (const [name, schema] of Object.entries(
        (json.properties ?? {}) as Record<string, JsonSchema>,
      )) {
        parameters.push({
          name,
          in: 'query',
          required: required.has(name),
          schema,
          ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
        });
      }
    }
    // Every POST takes the optional `Idempotency-Key` (the gateway's idempotency interceptor).
    if (route.method === 'post')
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
        description:
          'Makes a retry safe: a retry with the same key and request answers with the first outcome; another request under the key is 422, a retry while the first still runs is 409.',
      });
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(op.responses)) {
      if (spec === null) {
        responses[status] = { description: 'No content' };
        continue;
      }
      const response: ApiResponse = isResponseSpec(spec) ? spec : { schema: spec };
      responses[status] = {
        description: response.description ?? 'Success',
        ...(response.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(response.headers).map(([name, description]) => [
                  name,
                  { description, schema: { type: 'string' } },
                ]),
              ),
            }
          : {}),
        ...(response.schema
          ? {
              content: {
                [response.contentType ?? 'application/json']: {
                  schema: schemas.convert(response.schema, 'output'),
                },
              },
            }
          : {}),
      };
    }
    const errors = new Set(op.errors ?? []);
    if (op.body || op.query || params.length > 0) errors.add(400);
    if (route.auth !== 'public') errors.add(401).add(429);
    if (route.auth === 'admin' || route.auth === 'tenant') errors.add(403);
    for (const status of [...errors].sort((a, b) => a - b))
      responses[String(status)] = problem(status);
    responses.default = { description: 'Unexpected error', content: problem(500).content };

    for (const tag of op.tags) usedTags.add(tag);
    const operation: Record<string, unknown> = {
      operationId:
        op.operationId ?? `${route.controller.replace(/Controller$/, '')}_${route.handler}`,
      summary: op.summary,
      description: [op.description, AUTH_NOTE[route.auth]].filter(Boolean).join('\n\n'),
      tags: op.tags,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.body ? { requestBody: requestBodyOf(op.body) } : {}),
      responses,
      security: route.auth === 'public' ? [] : [{ bearerAuth: [] }],
      'x-roam-auth': route.auth,
    };
    (paths[path] ??= {})[route.method] = operation;
  }

  return {
    openapi: '3.1.1',
    info,
    tags: [...usedTags].sort().map((name) => ({ name, description: TAGS[name] ?? name })),
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: schemas.components,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A tenant API key (`sk-…`), an admin key (`sk-admin-…`) or the bootstrap admin token.',
        },
      },
    },
  };
}
