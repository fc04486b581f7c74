import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * Nest's default RPC filter replaces any non-RpcException with "Internal server error",
 * so the dead letter would lose the real message and stack. Install this filter
 * (`app.useGlobalFilters(new JetStreamExceptionFilter())`, or `inheritAppConfig` in a
 * hybrid app) to hand the original error to the transport unchanged.
 */
@Catch()
export class JetStreamExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
