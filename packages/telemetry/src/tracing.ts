import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

export { SpanKind, SpanStatusCode, context, trace, type Context, type Span };

export interface TracingOptions {
  service: string;
  /** OTLP/HTTP endpoint; without it no exporter runs and spans cost next to nothing. */
  otlpEndpoint?: string | undefined;
}

export interface Tracing {
  shutdown(): Promise<void>;
}

let propagatorInstalled = false;
let exporting = false;

/**
 * Whether spans go anywhere. Without the SDK there is no context manager either, so a
 * span around a handler would neither be exported nor reach the handler's publishes: hot
 * paths skip building it.
 */
export function tracingEnabled(): boolean {
  return exporting;
}

/** Installs the W3C propagator (always) and the OpenTelemetry SDK (only when exporting). */
export function startTracing(options: TracingOptions): Tracing {
  installPropagator();
  if (!options.otlpEndpoint) return { shutdown: async () => {} };
  exporting = true;
  const sdk = new NodeSDK({
    serviceName: options.service,
    traceExporter: new OTLPTraceExporter({
      url: `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces`,
    }),
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

function installPropagator(): void {
  if (propagatorInstalled) return;
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  propagatorInstalled = true;
}

/** The `traceparent` of the active span, to put in an envelope or message header. */
export function currentTraceparent(ctx: Context = context.active()): string | null {
  installPropagator();
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier['traceparent'] ?? null;
}

/** The context a message's `traceparent` header continues. */
export function contextFromTraceparent(traceparent: string | null | undefined): Context {
  installPropagator();
  if (!traceparent) return context.active();
  return propagation.extract(context.active(), { traceparent });
}

/** The trace id of a `traceparent`, for the `trace.id` log field. */
export function traceIdOf(traceparent: string | null | undefined): string | undefined {
  return traceparent?.split('-')[1];
}
