import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  type PipeTransform,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { type Observable, throwError } from 'rxjs';
import type { z } from 'zod';

/** Stable problem `type`s (RFC 9457). Clients switch on these, never on `title` or `detail`. */
export const problemTypes = {
  validation: 'https://roam.dev/problems/validation-error',
  malformed: 'https://roam.dev/problems/malformed-request',
  notFound: 'https://roam.dev/problems/not-found',
  conflict: 'https://roam.dev/problems/conflict',
  unauthorized: 'https://roam.dev/problems/unauthorized',
  forbidden: 'https://roam.dev/problems/forbidden',
  tooLarge: 'https://roam.dev/problems/payload-too-large',
  unsupportedMediaType: 'https://roam.dev/problems/unsupported-media-type',
  rateLimited: 'https://roam.dev/problems/rate-limited',
  unavailable: 'https://roam.dev/problems/service-unavailable',
  internal: 'https://roam.dev/problems/internal-error',
  http: 'https://roam.dev/problems/http-error',
} as const;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

/** Throw from anywhere on the request path to answer with a problem document. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    detail?: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

export interface FieldError {
  path: string;
  message: string;
}

export function validationProblem(
  where: string,
  issues: readonly z.core.$ZodIssue[],
): ProblemError {
  const errors: FieldError[] = issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
  const first = errors[0];
  return new ProblemError(
    400,
    problemTypes.validation,
    'Request validation failed',
    first ? `${where}: ${first.path}: ${first.message}` : `invalid ${where}`,
    { errors },
  );
}

/** `@Body(new ZodPipe(schema, 'body'))`: parse or answer 400 naming every bad field. */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(
    private readonly schema: S,
    private readonly where = 'body',
  ) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value);
    if (!result.success) throw validationProblem(this.where, result.error.issues);
    return result.data;
  }
}

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
  limit?: number;
}

function toProblem(exception: unknown): Problem & { headers?: Record<string, string> } {
  if (exception instanceof ProblemError) {
    return {
      type: exception.type,
      title: exception.title,
      status: exception.status,
      detail: exception.message,
      ...exception.extensions,
      headers: exception.headers,
    };
  }
  // Nest wraps body-parser's errors in an HttpException and keeps the original as `cause`.
  const parser = (
    exception instanceof HttpException ? (exception.cause ?? exception) : exception
  ) as BodyParserError;
  // Thrown by the parser's `verify` (`verifyJsonBody`).
  if (parser instanceof ProblemError) return toProblem(parser);
  if (parser?.type === 'entity.too.large') {
    return {
      type: problemTypes.tooLarge,
      title: 'Payload too large',
      status: 413,
      detail: `request body exceeds the limit of ${parser.limit ?? '?'} bytes`,
    };
  }
  if (parser?.type === 'entity.parse.failed' || parser instanceof SyntaxError) {
    return {
      type: problemTypes.malformed,
      title: 'Malformed request body',
      status: 400,
      detail: 'the body is not valid JSON',
    };
  }
  if (parser?.type === 'encoding.unsupported' || parser?.type === 'charset.unsupported') {
    return { type: problemTypes.unsupportedMediaType, title: 'Unsupported encoding', status: 415 };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const type =
      status === 404
        ? problemTypes.notFound
        : status === 413
          ? problemTypes.tooLarge
          : status === 401
            ? problemTypes.unauthorized
            : status === 403
              ? problemTypes.forbidden
              : problemTypes.http;
    const response = exception.getResponse();
    const detail =
      typeof response === 'string'
        ? response
        : typeof (response as { message?: unknown }).message === 'string'
          ? (response as { message: string }).message
          : exception.message;
    return {
      type,
      title: exception.name.replace(/Exception$/, '').replace(/([a-z])([A-Z])/g, '$1 $2'),
      status,
      detail,
    };
  }
  return {
    type: problemTypes.internal,
    title: 'Internal error',
    status: 500,
    detail: 'an unexpected error occurred; it has been logged',
  };
}

/** Every HTTP error leaves as `application/problem+json`; stacks go to the log, never the body. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> | undefined {
    // Message handlers: hand the original error to the transport, which naks or dead-letters
    // it with the real message (Nest's default RPC filter would say "Internal server error").
    if (host.getType() !== 'http') return throwError(() => exception);
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<Request>();
    const { headers, ...problem } = toProblem(exception);
    if (problem.status >= 500) {
      this.logger.error(
        { err: exception, method: request.method, url: request.originalUrl },
        'request failed',
      );
    }
    if (response.headersSent) {
      response.end();
      return undefined;
    }
    for (const [name, value] of Object.entries(headers ?? {})) response.setHeader(name, value);
    response
      .status(problem.status)
      .type('application/problem+json')
      .send(JSON.stringify({ ...problem, instance: request.originalUrl }));
    return undefined;
  }
}
