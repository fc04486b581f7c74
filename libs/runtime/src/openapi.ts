import { SetMetadata } from '@nestjs/common';
import type { z } from 'zod';

/** Metadata key under which `@ApiOperation()` stores its options on a route handler. */
export const API_OPERATION = 'roam:openapi:operation';

/** A response that is not JSON, or that needs a description or headers of its own. */
export interface ApiResponse {
  description?: string;
  /** Omit for an empty body (204, 202 without content…). */
  schema?: z.ZodType;
  /** Defaults to `application/json`; e.g. `text/plain`, `text/event-stream`, `text/html`. */
  contentType?: string;
  /** Response headers worth documenting, by name → description. */
  headers?: Record<string, string>;
}

/**
 * A request body the route reads itself (a form, an upload) rather than through a `ZodPipe`, or
 * one accepted in several media types: a schema per media type.
 */
export interface ApiRequestBody {
  description?: string;
  /** By media type, e.g. `multipart/form-data`; a file part is `z.string().meta({ format: 'binary' })`. */
  content: Record<string, z.ZodType>;
  /** Defaults to true. */
  required?: boolean;
}

export interface ApiOperationOptions {
  /** One line, imperative: "Submit a job". */
  summary: string;
  description?: string;
  /**
   * Groups in the docs: "jobs", "templates", "events", "webhooks", "tenants", "logs", "admin",
   * "seed", "health", "docs" (described in the gateway's `openapi.document.ts`).
   */
  tags: string[];
  /** Defaults to `<ControllerName>_<methodName>`. Must be unique across the API. */
  operationId?: string;
  /** The schema given to `@Body(new ZodPipe(schema))` (JSON), or an `ApiRequestBody`. */
  body?: z.ZodType | ApiRequestBody;
  /** The object schema given to `@Query(new ZodPipe(schema, 'query'))`. */
  query?: z.ZodObject;
  /** One schema per `:name` in the route path; a path parameter left out is documented as a string. */
  params?: Record<string, z.ZodType>;
  /** Success responses by status: a zod schema (JSON body), an `ApiResponse`, or null (no body). */
  responses: Record<number, z.ZodType | ApiResponse | null>;
  /**
   * Error statuses this route answers besides the ones the generator adds from what it knows
   * (400 when there is a body/query/params, 401/403 from the auth decorators, 429 for tenant
   * keys). Each is documented as `application/problem+json`.
   */
  errors?: number[];
}

/**
 * Documents a route in the OpenAPI document served at `GET /openapi.json`.
 *
 * How to annotate a route: put `@ApiOperation({...})` next to `@Get()`/`@Post()` and pass the
 * very zod schemas the route's `ZodPipe`s validate with, so the document cannot drift from
 * what the route accepts:
 *
 *     const listQuery = z.object({ limit: z.coerce.number().int().default(50) }).strict();
 *
 *     @ApiOperation({
 *       summary: 'List templates',
 *       tags: ['templates'],
 *       query: listQuery,
 *       params: { id: templateIdSchema },
 *       responses: { 200: templatePageSchema },
 *       errors: [404, 409],
 *     })
 *     @Get(':id')
 *     list(@Query(new ZodPipe(listQuery, 'query')) query: z.output<typeof listQuery>) { … }
 *
 * Auth comes from `@Public()` / `@AdminOnly()` / `@TenantOnly()`, not from here. Give a
 * response schema a name with `.meta({ id: 'JobView' })` to make it a reusable component.
 * A route without `@ApiOperation` is left out of the document, and the gateway's OpenAPI test
 * fails naming it.
 */
export const ApiOperation = (options: ApiOperationOptions) => SetMetadata(API_OPERATION, options);
