import {
  type Attributes,
  context,
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

export { SpanKind, SpanStatusCode } from '@opentelemetry/api';
export type { Span } from '@opentelemetry/api';
export { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';

export type TracesExporter = 'otlp' | 'console' | 'none';

export interface TelemetryOptions {
  /** The app's name; the service name defaults to `roam-<app>`. */
  app: string;
  /** `OTEL_SERVICE_NAME`. */
  serviceName?: string;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`, e.g. `http://127.0.0.1:4318`; spans go to `<endpoint>/v1/traces`. */
  otlpEndpoint?: string;
  /** `OTEL_TRACES_EXPORTER`; defaults to `otlp` when an endpoint is set, else `none`. */
  tracesExporter?: TracesExporter;
  /** More processors (tests add one around an `InMemorySpanExporter`). */
  spanProcessors?: SpanProcessor[];
}

export interface TelemetryState {
  serviceName: string;
  exporter: TracesExporter;
}

let installed: { provider: TracerProvider; state: TelemetryState } | undefined;

/** Which exporter the settings select: an explicit choice wins, else OTLP exactly when an endpoint is set. */
export function resolveTracesExporter(
  options: Pick<TelemetryOptions, 'otlpEndpoint' | 'tracesExporter'>,
): TracesExporter {
  return options.tracesExporter ?? (options.otlpEndpoint ? 'otlp' : 'none');
}

/**
 * Installs tracing for the process: the AsyncLocalStorage context manager, the W3C trace
 * context propagator and a tracer provider. Without an exporter spans are still made (so
 * `traceparent` flows through HTTP, the outbox and NATS) but go nowhere, and shutdown waits on
 * nothing. One provider per process: the first call wins and later calls (several apps in one
 * test process) return the state already installed.
 */
export function initTelemetry(options: TelemetryOptions): TelemetryState {
  if (installed) return installed.state;
  const exporter = resolveTracesExporter(options);
  const serviceName = options.serviceName ?? `roam-${options.app}`;
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (exporter === 'otlp') {
    const base = (options.otlpEndpoint ?? 'http://localhost:4318').replace(/\/+$/, '');
    processors.push(
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${base}/v1/traces` }),
        exportTimeoutMillis: 5000,
      }),
    );
  } else if (exporter === 'console') {
    processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': serviceName,
      'service.namespace': 'roam',
    }),
    spanProcessors: processors,
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  installed = { provider, state: { serviceName, exporter } };
  return installed.state;
}

/**
 * For tests: installs tracing (if this process has none yet) with every finished span kept in
 * memory, and returns the exporter holding them. Call it before the apps boot.
 */
export function recordSpansInMemory(app = 'test'): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  if (installed) throw new Error('tracing is already installed in this process');
  initTelemetry({ app, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return exporter;
}

/** Flushes and removes the provider (end of `runApp`); a no-op when nothing is installed. */
export async function shutdownTelemetry(): Promise<void> {
  const current = installed;
  if (!current) return;
  installed = undefined;
  try {
    await current.provider.shutdown();
  } finally {
    trace.disable();
    propagation.disable();
    context.disable();
  }
}

/** The tracer roam's own spans come from. */
export function tracer(): Tracer {
  return trace.getTracer('roam');
}

/** The active span's W3C `traceparent`, or undefined outside a (sampled or not) span. */
export function currentTraceparent(active: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  return carrier.traceparent;
}

/**
 * `fn` bound to the context active now. For callbacks that a library runs in a context of its
 * own: Prisma's interactive `$transaction` callback, for one, does not see the caller's span.
 */
export function bindToActiveContext<F extends (...args: never[]) => unknown>(fn: F): F {
  return context.bind(context.active(), fn);
}

/** A context whose parent is the given `traceparent` (root when absent or malformed). */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** Marks the span failed with the error. */
export function failSpan(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent context; the active one by default. */
  parent?: Context;
  /** Errors that are an answer, not a failure (NotFound on a get, say): the span stays OK. */
  expected?: (error: unknown) => boolean;
}

/** Runs `work` inside a new active span, ending it when `work` settles; a throw marks it failed. */
export async function withSpan<T>(
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    if (!options.expected?.(error)) failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}
