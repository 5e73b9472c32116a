import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { AppError, sendProblem, type Logger } from '@shop/platform';

export interface ServiceProxy {
  handler: RequestHandler;
  close(): void;
}

/**
 * Streams a request to one service and its answer back, untouched: the path (with query) is the
 * original one, the body is never parsed here (services enforce their own limits), and the
 * headers — Authorization and the X-Request-Id set by requestContext — travel as they are.
 * A service that refuses the connection or resets it becomes 503 service_unavailable; one that
 * does not answer within `timeoutMs` becomes 504 service_timeout; either way as problem+json, never a hang.
 */
export function serviceProxy(options: { service: string; target: string; timeoutMs: number; logger: Logger }): ServiceProxy {
  const { service, target, timeoutMs, logger } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const timedOut = new WeakSet<IncomingMessage>();

  const handler = createProxyMiddleware<Request, Response>({
    target,
    agent,
    changeOrigin: true,
    xfwd: true,
    proxyTimeout: timeoutMs,
    // Mounted under its prefix, express strips it from req.url; the service wants the full path.
    pathRewrite: (_path, req) => req.originalUrl,
    on: {
      proxyReq: (proxyReq: ClientRequest, req: IncomingMessage) => {
        proxyReq.once('timeout', () => timedOut.add(req));
      },
      proxyRes: (proxyRes: IncomingMessage) => {
        // Hop-by-hop: a draining service's `Connection: close` is about the gateway's socket to it,
        // not the client's socket to the gateway, which stays open for its next request.
        delete proxyRes.headers.connection;
      },
      error: (error, req, res) => {
        const response = res as ServerResponse;
        const requestId = (response as Response).locals?.requestId;
        const timeout = timedOut.has(req);
        logger.warn('proxy failed', {
          request_id: requestId,
          service,
          method: req.method,
          path: (req as Request).originalUrl ?? req.url,
          err: (error as NodeJS.ErrnoException).code ?? error.message,
          timeout,
        });
        if (typeof response.writeHead !== 'function') return void (res as { destroy?: () => void }).destroy?.();
        if (response.headersSent) return void response.destroy();
        sendProblem(
          response as Response,
          timeout
            ? new AppError(504, 'service_timeout', `The ${service} did not answer within ${timeoutMs} ms.`)
            : new AppError(503, 'service_unavailable', `The ${service} is not reachable right now; try again shortly.`, {
                headers: { 'Retry-After': '1' },
              }),
        );
      },
    },
  });

  return { handler, close: () => agent.destroy() };
}
