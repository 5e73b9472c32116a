import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Request, RequestHandler, Response } from 'express';
import { AppError, sendProblem, type Logger } from '@shop/platform';
import { copyBody } from './body-copy';
import { forward, forwardTarget, type ForwardFailure, type ForwardTarget } from './forward';
import { forwardedPath, requestHeaders } from './forwarded-headers';
import type { ServiceInstances } from './instances';

export interface ServiceProxy {
  handler: RequestHandler;
  close(): void;
}

/**
 * How long opening a connection to an instance may take (DNS lookup included). Behind the gateway a
 * live instance connects in milliseconds; a stopped or blackholed one would otherwise hold the request
 * until the OS gives up (minutes), since `timeoutMs` only starts once the connection is open.
 */
const CONNECT_TIMEOUT_MS = 1_000;

/**
 * Streams a request to one instance of a service and its answer back, untouched: the path (with
 * query) is the original one, the body is never parsed here (services enforce their own limits), and
 * the headers — Authorization and the X-Request-Id set by requestContext — travel as they are
 * (forwarded-headers.ts says what is added and dropped).
 *
 * Requests go round-robin to the service's healthy instances (instances.ts). An instance to which no
 * connection opens — refused, host not found or unreachable, nothing within `CONNECT_TIMEOUT_MS` —
 * never saw the request, so it is taken out and the request, whatever its method, goes to the next
 * instance at once; only when no instance could be connected to does it become 503
 * service_unavailable. Once a connection is open the request is never sent elsewhere (the service may
 * have acted on it): a reset then is 503 as well. A service that does not answer within `timeoutMs`
 * becomes 504 service_timeout; either way as problem+json, never a hang.
 */
export function serviceProxy(options: {
  service: string;
  instances: ServiceInstances;
  timeoutMs: number;
  logger: Logger;
}): ServiceProxy {
  const { service, instances, timeoutMs, logger } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const targets = new Map<string, ForwardTarget>(instances.urls.map((url) => [url, forwardTarget(url)]));
  // With one instance there is nowhere else to send a request, so its body is never kept.
  const canResend = instances.urls.length > 1;

  const handler: RequestHandler = (req, res) => {
    const first = instances.pick()!;
    // Mounted under its prefix, express strips it from req.url; the service wants the full path.
    const path = forwardedPath(req.originalUrl);
    // Computed once: a request sent on to another instance names its client once, not twice.
    const headers = requestHeaders(req);
    const tried = new Set([first]);
    const body = canResend ? copyBody(req) : undefined;
    res.on('error', () => undefined);

    const send = (url: string, from: Readable) =>
      forward(req, res, targets.get(url)!, path, headers, from, {
        agent,
        timeoutMs,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        // From here on the request may have been sent, so it never goes elsewhere: the copy is dropped.
        onConnected: () => body?.release(),
        onFailure: (failure) => {
          if (failure.connected) return fail(failure, url, req, res);
          // No connection was opened, so nothing was sent: the request is safe to send to another instance.
          instances.unreachable(url, failure.error.code ?? failure.error.message);
          const next = body && !res.headersSent ? instances.pick(tried) : undefined;
          if (!body || !next) return fail(failure, url, req, res);
          tried.add(next);
          logger.debug('proxy: no connection to the instance, sending to the next one', {
            service,
            method: req.method,
            instance: next,
          });
          void body.replay(timeoutMs).then((copy) => (copy ? send(next, copy) : fail(failure, next, req, res)));
        },
      });
    send(first, req);
  };

  function fail(failure: ForwardFailure, instance: string, req: IncomingMessage, res: ServerResponse) {
    const { error, timedOut } = failure;
    logger.warn('proxy failed', {
      request_id: (res as Response).locals?.requestId,
      service,
      instance,
      method: req.method,
      path: (req as Request).originalUrl ?? req.url,
      err: error.code ?? error.message,
      timeout: timedOut,
    });
    if (res.headersSent || res.destroyed) return void res.destroy();
    sendProblem(
      res as Response,
      timedOut
        ? new AppError(504, 'service_timeout', `The ${service} did not answer within ${timeoutMs} ms.`)
        : new AppError(
            503,
            'service_unavailable',
            `The ${service} is not reachable right now; try again shortly.`,
            {
              headers: { 'Retry-After': '1' },
            },
          ),
    );
  }

  return { handler, close: () => agent.destroy() };
}
