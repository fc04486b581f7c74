import type { IncomingHttpHeaders } from 'node:http';

import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

import { metrics } from './metrics.js';
import { tracer } from './tracing.js';

/** The parts of an Express request the middleware reads; `route` is set once a route matched. */
export interface HttpRequestLike {
  method: string;
  url: string;
  originalUrl?: string;
  baseUrl?: string;
  headers: IncomingHttpHeaders;
  route?: { path: unknown };
}

export interface HttpResponseLike {
  statusCode: number;
  writableFinished: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/** Label for requests no route matched (404s), so scanners cannot mint new series. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Probes and scrapes: counted in the metrics, but no span (they would bury real traces). */
const UNTRACED = /^\/(health(\/|$)|metrics$)/;

/** The route template that answered (`/api/v1/jobs/:id`), never the raw path. */
export function routeTemplate(req: HttpRequestLike): string {
  const path = req.route?.path;
  const template: unknown = Array.isArray(path) ? (path as unknown[])[0] : path;
  if (typeof template !== 'string') return UNMATCHED_ROUTE;
  return `${req.baseUrl ?? ''}${template}` || '/';
}

/**
 * Express middleware for every app: a SERVER span per request (child of the caller's
 * `traceparent`, active while the route runs, so messages written to the outbox inherit it)
 * and `roam_http_requests_total` / `roam_http_request_duration_seconds` by route template.
 * Register it after the body parser: the parser's stream callbacks would drop the context.
 */
export function httpTelemetry() {
  return (req: HttpRequestLike, res: HttpResponseLike, next: () => void): void => {
    const started = performance.now();
    const method = req.method.toUpperCase();
    const path = (req.originalUrl ?? req.url).split('?')[0] ?? '/';
    const span = UNTRACED.test(path)
      ? undefined
      : tracer().startSpan(
          method,
          {
            kind: SpanKind.SERVER,
            attributes: { 'http.request.method': method, 'url.path': path },
          },
          propagation.extract(ROOT_CONTEXT, req.headers),
        );
    res.once('close', () => {
      const route = routeTemplate(req);
      // A client that went away before the response finished is logged like nginx does.
      const status = String(res.writableFinished ? res.statusCode : 499);
      const labels = { method, route, status };
      metrics.httpRequests.inc(labels);
      metrics.httpRequestDuration.observe(labels, (performance.now() - started) / 1000);
      if (!span) return;
      if (route !== UNMATCHED_ROUTE) {
        span.updateName(`${method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', Number(status));
      if (Number(status) >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    if (!span) {
      next();
      return;
    }
    context.with(trace.setSpan(context.active(), span), next);
  };
}
