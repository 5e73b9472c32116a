import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger';

export const TRACEPARENT_HEADER = 'traceparent';
// W3C trace context: version-traceid-parentid-flags; all-zero ids are invalid.
const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

export function isValidTraceparent(value: unknown): value is string {
  const match = typeof value === 'string' ? TRACEPARENT.exec(value) : null;
  return !!match && match[1] !== 'ff' && !/^0+$/.test(match[2]!) && !/^0+$/.test(match[3]!);
}

/** A new sampled root: `00-<32 hex trace id>-<16 hex span id>-01`. */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** The trace id of a valid traceparent (what log lines carry as `trace_id`), else undefined. */
export function traceIdOf(traceparent: unknown): string | undefined {
  return isValidTraceparent(traceparent) ? traceparent.split('-')[1] : undefined;
}

let otelNoticeLogged = false;

/**
 * The OpenTelemetry SDK is not part of this build: trace context travels as W3C `traceparent`
 * (HTTP headers, outbox rows, CloudEvents envelopes, AMQP headers) and appears in logs as
 * `trace_id`, but no spans are exported. Say so once rather than silently ignore the setting.
 */
export function noteOtelExport(logger: Logger, env: Record<string, string | undefined> = process.env): void {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || otelNoticeLogged) return;
  otelNoticeLogged = true;
  logger.warn(
    'OTEL_EXPORTER_OTLP_ENDPOINT is set, but OpenTelemetry span export is not bundled in this build; ' +
      'traces are propagated (traceparent) and logged as trace_id only',
    { endpoint },
  );
}
