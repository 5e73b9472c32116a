import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger';
import { isValidTraceparent, newTraceparent, TRACEPARENT_HEADER } from '../observability/trace-context';

export const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_ID = /^[\w.:-]{1,128}$/;

/**
 * Takes the caller's X-Request-Id (or makes one), echoes it, and logs one line per request
 * when it finishes, so a request can be followed from the gateway into every service.
 * A request without a valid W3C `traceparent` gets a new one on its headers, so the gateway's
 * proxy forwards it and the events it causes carry it; its trace id is on the request log line.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers[REQUEST_ID_HEADER];
    const requestId = typeof incoming === 'string' && SAFE_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader('X-Request-Id', requestId);
    const incomingTrace = req.headers[TRACEPARENT_HEADER];
    const traceparent = isValidTraceparent(incomingTrace)
      ? incomingTrace
      : (req.headers[TRACEPARENT_HEADER] = newTraceparent());
    // The access log is at `http`, below the default `info`: build nothing when it is off.
    if (!logger.isLevelEnabled('http')) return next();
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const traceId = traceparent.slice(3, 35);
      const duration_ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.http('request', {
        request_id: requestId,
        trace_id: traceId,
        method: req.method,
        path: req.originalUrl,
        status: res.statusCode,
        duration_ms: Math.round(duration_ms * 10) / 10,
      });
    });
    next();
  };
}
