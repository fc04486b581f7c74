import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { catchError, from, mergeMap, type Observable, of } from 'rxjs';

import type { AuthenticatedRequest } from '../auth/principal.js';
import { isMultipart } from '../uploads/jobs-upload.service.js';
import {
  IDEMPOTENCY_BY_ROUTE,
  IDEMPOTENCY_HEADER,
  IdempotencyService,
} from './idempotency.service.js';

/**
 * Applies `Idempotency-Key` to every POST with a parsed (JSON) body. It runs after the guards,
 * so the principal is known and a rejected (401/403/429) request claims nothing.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly reflector: Reflector,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (request.method !== 'POST') return next.handle();
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (header === undefined) return next.handle();
    const targets = [context.getHandler(), context.getClass()];
    // A streamed form is read by its route, which applies the key once it knows the bytes.
    if (
      this.reflector.getAllAndOverride<boolean>(IDEMPOTENCY_BY_ROUTE, targets) ||
      isMultipart(request)
    ) {
      return next.handle();
    }
    const scope = this.idempotency.scopeOf(
      request.principal,
      header,
      request.method,
      request.originalUrl,
      request.body,
    );
    if (!scope) return next.handle();
    const response = context.switchToHttp().getResponse<Response>();
    const begun = await this.idempotency.begin(scope);
    if (begun.kind === 'replay') return of(this.idempotency.replay(response, begun));
    return next.handle().pipe(
      // The outcome is stored before the response leaves, so a retry that arrives the moment
      // the client has it is a replay, not a 409.
      mergeMap(async (body: unknown) => {
        await this.idempotency.finish(scope, response.statusCode, body);
        return body;
      }),
      catchError((error: unknown) =>
        from(this.idempotency.failed(scope, error, request.originalUrl)).pipe(
          mergeMap(() => {
            throw error;
          }),
        ),
      ),
    );
  }
}
