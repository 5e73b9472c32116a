/**
 * Tracing entry: `import '@shop/platform/otel';` as the FIRST line of a process's main module,
 * before anything loads http, express, pg or amqplib (so it must not import the platform index).
 * With OTEL_EXPORTER_OTLP_ENDPOINT set it starts the OpenTelemetry SDK (OTLP/HTTP JSON to
 * `${endpoint}/v1/traces`; http, express, pg and amqplib instrumentations); otherwise it does
 * nothing and loads none of the SDK.
 */
import { startTracing } from './observability/tracing';

export { shutdownTracing, startTracing, tracingStarted } from './observability/tracing';

startTracing();
