import { randomFillSync } from 'node:crypto';
import type { Logger } from '../logger';

export const TRACEPARENT_HEADER = 'traceparent';
// W3C trace context: version-traceid-parentid-flags; all-zero ids are invalid.
const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

export function isValidTraceparent(value: unknown): value is string {
  const match = typeof value === 'string' ? TRACEPARENT.exec(value) : null;
  return !!match && match[1] !== 'ff' && !/^0+$/.test(match[2]!) && !/^0+$/.test(match[3]!);
}

let activeTraceparent: (() => string | undefined) | undefined;

/** Set by the tracing entry (`@shop/platform/otel`): the active span's traceparent, if any. */
export function useActiveTraceparent(source: () => string | undefined): void {
  activeTraceparent = source;
}

/**
 * A new sampled root: `00-<32 hex trace id>-<16 hex span id>-01` — or, while spans are
 * exported, the active span's traceparent, so a request's logs and spans share its trace id.
 */
export function newTraceparent(): string {
  const active = activeTraceparent?.();
  if (active) return active;
  // Random bytes are drawn 128 traceparents at a time (as randomUUID does), not twice per call.
  if (poolOffset >= pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + 24);
  poolOffset += 24;
  const traceId = hex.slice(0, 32);
  const spanId = hex.slice(32);
  // All-zero ids are invalid (astronomically unlikely, but never emit one).
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return newTraceparent();
  return `00-${traceId}-${spanId}-01`;
}
const pool = Buffer.alloc(24 * 128);
let poolOffset = pool.length;

/** The trace id of a valid traceparent (what log lines carry as `trace_id`), else undefined. */
export function traceIdOf(traceparent: unknown): string | undefined {
  return isValidTraceparent(traceparent) ? traceparent.split('-')[1] : undefined;
}

let otelNoticeLogged = false;

/**
 * Spans are exported only when the process loaded `@shop/platform/otel` first (its main module's
 * first import), which logs "tracing: exporting spans to <endpoint>" itself. If the endpoint is
 * set but tracing did not start, say so once rather than silently ignore the setting.
 */
export function noteOtelExport(logger: Logger, env: Record<string, string | undefined> = process.env): void {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || otelNoticeLogged || activeTraceparent) return;
  otelNoticeLogged = true;
  logger.warn(
    "OTEL_EXPORTER_OTLP_ENDPOINT is set, but '@shop/platform/otel' was not loaded first in this process; " +
      'no spans are exported (traceparent is still propagated and logged as trace_id)',
    { endpoint },
  );
}
