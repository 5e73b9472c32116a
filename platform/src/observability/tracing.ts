import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type * as OtelApi from '@opentelemetry/api';
import type { Context, TextMapPropagator, TextMapSetter, TextMapGetter } from '@opentelemetry/api';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as AmqplibInstr from '@opentelemetry/instrumentation-amqplib';
import type * as ExpressInstr from '@opentelemetry/instrumentation-express';
import type * as HttpInstr from '@opentelemetry/instrumentation-http';
import type * as PgInstr from '@opentelemetry/instrumentation-pg';
import type * as OtelCore from '@opentelemetry/core';
import type * as SdkNode from '@opentelemetry/sdk-node';
import type * as LoggerModule from '../logger';
import { traceIdOf, TRACEPARENT_HEADER, useActiveTraceparent } from './trace-context';

type Env = Record<string, string | undefined>;

/**
 * Where spans go, per the OTel spec: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else
 * `${OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`. Undefined (tracing off) unless
 * OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
export function tracesEndpoint(env: Env = process.env): string | undefined {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || `${base.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * The service a script belongs to: its package's name without the scope, plus the script's own
 * name unless it is `main`/`index` (`order-service/dist/src/relay.js` → `order-service-relay`).
 */
export function serviceNameOf(script: string | undefined): string | undefined {
  if (!script) return undefined;
  const base = path.basename(script).replace(/\.[cm]?[jt]s$/, '');
  for (let dir = path.dirname(path.resolve(script)); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name?.replace(/^@[^/]+\//, '');
      if (!name) return undefined;
      return base === 'main' || base === 'index' ? name : `${name}-${base}`;
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Injects like the wrapped propagator, except that it never replaces a carrier's `traceparent`
 * from another trace. The outbox relay publishes rows written earlier, inside no span: the
 * amqplib instrumentation's publish span is a new root and would overwrite the row's stored
 * `traceparent` header — the one consumers must continue. A carrier already in the same trace
 * (the gateway proxying a request it received) still gets the current span as parent.
 */
export class KeepCarriedTrace implements TextMapPropagator {
  constructor(
    private readonly inner: TextMapPropagator,
    private readonly api: typeof OtelApi,
  ) {}

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const carried =
      carrier && typeof carrier === 'object' ? traceIdOf((carrier as Record<string, unknown>)[TRACEPARENT_HEADER]) : undefined;
    const current = this.api.trace.getSpanContext(context)?.traceId;
    if (carried && current && carried !== current) return;
    this.inner.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.inner.extract(context, carrier, getter);
  }

  fields(): string[] {
    return this.inner.fields();
  }
}

const PROBE = /^\/(?:health(?:\/|$|\?)|metrics(?:$|\?))/;

let sdk: SdkNode.NodeSDK | undefined;
let stopped: Promise<void> | undefined;

// Loaded only once tracing is on, so a process without OTEL_EXPORTER_OTLP_ENDPOINT loads none of it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = <T>(id: string): T => require(id) as T;

/**
 * Starts the OpenTelemetry SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set: OTLP/HTTP (JSON) trace
 * export and the http, express, pg and amqplib instrumentations. Must run before those modules
 * are loaded (see `@shop/platform/otel`). service.name is OTEL_SERVICE_NAME, else `serviceName`,
 * else derived from the main script. Does nothing (and loads nothing) otherwise; idempotent.
 */
export function startTracing(options: { serviceName?: string } = {}): boolean {
  const url = tracesEndpoint();
  if (sdk) return true;
  if (!url || /^true$/i.test(process.env.OTEL_SDK_DISABLED?.trim() ?? '')) return false;

  const api = load<typeof OtelApi>('@opentelemetry/api');
  const core = load<typeof OtelCore>('@opentelemetry/core');
  const { NodeSDK } = load<typeof SdkNode>('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = load<typeof OtlpHttp>('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = load<typeof HttpInstr>('@opentelemetry/instrumentation-http');
  const { ExpressInstrumentation } = load<typeof ExpressInstr>('@opentelemetry/instrumentation-express');
  const { PgInstrumentation } = load<typeof PgInstr>('@opentelemetry/instrumentation-pg');
  const { AmqplibInstrumentation } = load<typeof AmqplibInstr>('@opentelemetry/instrumentation-amqplib');

  const serviceName = process.env.OTEL_SERVICE_NAME?.trim() || options.serviceName || serviceNameOf(process.argv[1]);
  sdk = new NodeSDK({
    serviceName,
    traceExporter: new OTLPTraceExporter({ url }),
    textMapPropagator: new KeepCarriedTrace(
      new core.CompositePropagator({
        propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
      }),
      api,
    ),
    instrumentations: [
      // Probes and scrapes every few seconds would drown the traces that matter.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => PROBE.test(req.url ?? '') }),
      new ExpressInstrumentation(),
      // Relay polls and lag probes run outside any request: only queries inside a span are traced.
      new PgInstrumentation({ requireParentSpan: true }),
      new AmqplibInstrumentation(),
    ],
    // Traces only: metrics stay on /metrics (prom-client) unless OTel metrics/logs are asked for.
    ...(process.env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(process.env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();

  // A request without a traceparent gets its server span's: logs' trace_id and spans agree.
  useActiveTraceparent(() => {
    const span = api.trace.getActiveSpan()?.spanContext();
    if (!span || !api.isSpanContextValid(span)) return undefined;
    return `00-${span.traceId}-${span.spanId}-${span.traceFlags & api.TraceFlags.SAMPLED ? '01' : '00'}`;
  });

  flushOnExit();

  load<typeof LoggerModule>('../logger')
    .createLogger(serviceName ?? 'unknown_service', process.env.LOG_LEVEL)
    .info(`tracing: exporting spans to ${url}`);
  return true;
}

/**
 * Spans are batched, so a process must flush before it ends. `onShutdown` and the relay runner
 * flush after their drain; a process without such a handler flushes here and re-raises the
 * signal, and one that simply runs out of work flushes on `beforeExit`.
 */
function flushOnExit(): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (process.listenerCount(signal) === 0) void shutdownTracing().finally(() => process.kill(process.pid, signal));
    });
  }
  process.once('beforeExit', () => void shutdownTracing());
}

/** True once `startTracing` has started the SDK. */
export function tracingStarted(): boolean {
  return sdk !== undefined;
}

/** Flushes buffered spans and stops the SDK; safe to call more than once, or when tracing is off. */
export function shutdownTracing(): Promise<void> {
  if (!sdk) return Promise.resolve();
  stopped ??= sdk.shutdown().catch(() => undefined);
  return stopped;
}
