import type { Request, Response } from 'express';
import type { EventContext } from '../messaging/order-events';

const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

/** Events caused by a request carry its request id as correlation id, and its W3C traceparent if valid. */
export function eventContextOf(req: Request, res: Response): EventContext {
  const traceparent = req.headers.traceparent;
  return {
    correlationId: String(res.locals.requestId),
    traceparent: typeof traceparent === 'string' && TRACEPARENT.test(traceparent) ? traceparent : null,
  };
}
