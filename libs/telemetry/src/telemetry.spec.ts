import { EventEmitter } from 'node:events';

import { describe, expect, it } from '@jest/globals';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';

import { httpTelemetry, routeTemplate, UNMATCHED_ROUTE, type HttpRequestLike } from './http.js';
import { metricsRegistry } from './metrics.js';
import {
  bindToActiveContext,
  contextFromTraceparent,
  currentTraceparent,
  recordSpansInMemory,
  resolveTracesExporter,
  SpanKind,
  withSpan,
} from './tracing.js';

const spans = recordSpansInMemory('spec');
const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

async function counter(labels: Record<string, string>): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('roam_http_requests_total')!.get();
  const found = metric.values.find((value) =>
    Object.entries(labels).every(([key, v]) => value.labels[key] === v),
  );
  return found?.value ?? 0;
}

class FakeResponse extends EventEmitter {
  statusCode = 200;
  writableFinished = false;
  finish(status: number): void {
    this.statusCode = status;
    this.writableFinished = true;
    this.emit('close');
  }
}

describe('resolveTracesExporter', () => {
  it.each([
    [{}, 'none'],
    [{ otlpEndpoint: 'http://collector:4318' }, 'otlp'],
    [{ tracesExporter: 'console' as const }, 'console'],
    [{ otlpEndpoint: 'http://collector:4318', tracesExporter: 'none' as const }, 'none'],
  ])('%j → %s', (options, expected) => {
    expect(resolveTracesExporter(options)).toBe(expected);
  });
});

describe('routeTemplate', () => {
  const req = (route?: { path: unknown }, baseUrl = ''): HttpRequestLike => ({
    method: 'GET',
    url: '/x',
    headers: {},
    baseUrl,
    ...(route ? { route } : {}),
  });

  it('joins the mount point and the matched route path', () => {
    expect(routeTemplate(req({ path: '/jobs/:id' }, '/api/v1'))).toBe('/api/v1/jobs/:id');
    expect(routeTemplate(req({ path: ['/a/:x', '/b'] }))).toBe('/a/:x');
  });

  it('labels a request no route matched as unmatched', () => {
    expect(routeTemplate(req())).toBe(UNMATCHED_ROUTE);
    expect(routeTemplate(req({ path: /regex/ }))).toBe(UNMATCHED_ROUTE);
  });
});

describe('trace context helpers', () => {
  it('round-trips a traceparent and has none outside a span', () => {
    expect(currentTraceparent(context.active())).toBeUndefined();
    expect(currentTraceparent(contextFromTraceparent(PARENT))).toBe(PARENT);
    expect(currentTraceparent(contextFromTraceparent('garbage'))).toBeUndefined();
  });

  it('withSpan makes a child span active, fails it on a throw, keeps expected errors OK', async () => {
    spans.reset();
    const inner = await withSpan(
      'child',
      { parent: contextFromTraceparent(PARENT), kind: SpanKind.CONSUMER },
      () => Promise.resolve(currentTraceparent()),
    );
    expect(inner).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(inner).not.toBe(PARENT);
    await expect(withSpan('boom', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    await expect(
      withSpan('gone', { expected: () => true }, () => Promise.reject(new Error('not found'))),
    ).rejects.toThrow('not found');
    const byName = Object.fromEntries(spans.getFinishedSpans().map((s) => [s.name, s]));
    expect(byName.child?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(byName.child?.kind).toBe(SpanKind.CONSUMER);
    expect(byName.boom?.status.code).toBe(SpanStatusCode.ERROR);
    expect(byName.gone?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('bindToActiveContext carries the span into a callback run elsewhere', async () => {
    const span = trace.getTracer('spec').startSpan('outer');
    const bound = context.with(trace.setSpan(context.active(), span), () =>
      bindToActiveContext(() => currentTraceparent()),
    );
    const seen = await new Promise<string | undefined>((resolve) =>
      context.with(context.active(), () => setImmediate(() => resolve(bound()))),
    );
    span.end();
    expect(seen).toContain(span.spanContext().spanId);
  });
});

describe('httpTelemetry', () => {
  it('counts by route template and status, and runs the route in a SERVER span of the caller', async () => {
    spans.reset();
    const middleware = httpTelemetry();
    const req: HttpRequestLike = {
      method: 'get',
      url: '/api/v1/jobs/0190-abc?x=1',
      headers: { traceparent: PARENT },
    };
    const res = new FakeResponse();
    const labels = { method: 'GET', route: '/api/v1/jobs/:id', status: '404' };
    const before = await counter(labels);
    let inside: string | undefined;
    middleware(req, res, () => {
      inside = currentTraceparent();
      req.route = { path: '/api/v1/jobs/:id' };
    });
    res.finish(404);
    expect(await counter(labels)).toBe(before + 1);
    expect(inside).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/);
    const [span] = spans.getFinishedSpans();
    expect(span?.name).toBe('GET /api/v1/jobs/:id');
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.attributes['http.response.status_code']).toBe(404);
    expect(span?.attributes['url.path']).toBe('/api/v1/jobs/0190-abc');
  });

  it('counts probes and aborted requests without tracing them', async () => {
    spans.reset();
    const middleware = httpTelemetry();
    const req: HttpRequestLike = { method: 'GET', url: '/health/live', headers: {} };
    const res = new FakeResponse();
    const before = await counter({ route: UNMATCHED_ROUTE, status: '499' });
    middleware(req, res, () => undefined);
    res.emit('close');
    expect(await counter({ route: UNMATCHED_ROUTE, status: '499' })).toBe(before + 1);
    expect(spans.getFinishedSpans()).toEqual([]);
  });
});
