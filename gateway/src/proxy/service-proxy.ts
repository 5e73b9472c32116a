import { Agent, ServerResponse, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Request, RequestHandler, Response } from 'express';
import { createProxyMiddleware, debugProxyErrorsPlugin, proxyEventsPlugin, type Plugin } from 'http-proxy-middleware';
import { AppError, sendProblem, type Logger } from '@shop/platform';
import { copyBody, type BodyCopy } from './body-copy';
import type { ServiceInstances } from './instances';

export interface ServiceProxy {
  handler: RequestHandler;
  close(): void;
}

type ProxyServer = Parameters<Plugin>[0];

/** http-proxy-middleware's default plugins, in their order, less its logger (`ejectPlugins` below). */
const DEFAULT_PLUGINS_BUT_LOGGER = [debugProxyErrorsPlugin, proxyEventsPlugin] as unknown as Plugin<Request, Response>[];

/** One request's way to a service: the instances it was sent to, and its body while it may still go elsewhere. */
interface Attempts {
  tried: Set<string>;
  current: string;
  /** The connection to `current` is open: from here on the request may have been sent, so it never goes elsewhere. */
  connected: boolean;
  body?: BodyCopy;
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
 * the headers — Authorization and the X-Request-Id set by requestContext — travel as they are.
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
  const forwarding = { agent, changeOrigin: true, xfwd: true, proxyTimeout: timeoutMs };
  const timedOut = new WeakSet<IncomingMessage>();
  const attempts = new WeakMap<IncomingMessage, Attempts>();
  let proxyServer: ProxyServer | undefined;

  const handler = createProxyMiddleware<Request, Response>({
    ...forwarding,
    router: (req) => {
      const current = instances.pick()!;
      attempts.set(req, { tried: new Set([current]), current, connected: false });
      return current;
    },
    // Mounted under its prefix, express strips it from req.url; the service wants the full path.
    pathRewrite: (_path, req) => req.originalUrl,
    // The default plugins less its logger, which built a URL and a line for every answer only to
    // hand them to a logger that discards them (we give it none); failures are logged in `fail`.
    ejectPlugins: true,
    plugins: [...DEFAULT_PLUGINS_BUT_LOGGER, (server) => (proxyServer = server)],
    on: {
      start: (req: IncomingMessage) => {
        const attempt = attempts.get(req);
        if (attempt && !attempt.body) attempt.body = copyBody(req);
      },
      proxyReq: (proxyReq: ClientRequest, req: IncomingMessage) => {
        proxyReq.once('timeout', () => timedOut.add(req));
        // Emitted once the request has its socket: when that is connected, the request can no longer go elsewhere.
        const attempt = attempts.get(req);
        const connected = () => {
          if (attempt) attempt.connected = true;
          attempt?.body?.release();
        };
        const socket = proxyReq.socket;
        if (!socket?.connecting) return connected();
        const connectTimer = setTimeout(() => {
          const error: NodeJS.ErrnoException = new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`);
          error.code = 'ECONNECTTIMEOUT';
          proxyReq.destroy(error);
        }, CONNECT_TIMEOUT_MS);
        socket.once('connect', () => {
          clearTimeout(connectTimer);
          connected();
        });
        socket.once('close', () => clearTimeout(connectTimer));
      },
      proxyRes: (proxyRes: IncomingMessage) => {
        // Hop-by-hop: a draining service's `Connection: close` is about the gateway's socket to it,
        // not the client's socket to the gateway, which stays open for its next request.
        delete proxyRes.headers.connection;
      },
      error: (error, req, res) => {
        const attempt = attempts.get(req);
        // No connection was opened, so nothing was sent: the request is safe to send to another instance.
        if (attempt && !attempt.connected) {
          instances.unreachable(attempt.current, (error as NodeJS.ErrnoException).code ?? error.message);
          const next =
            res instanceof ServerResponse && !res.headersSent ? instances.pick(attempt.tried) : undefined;
          if (next) return void resend(req, res as ServerResponse, attempt, next, error);
        }
        fail(error, req, res);
      },
    },
  });

  /** Sends a request that could not be connected to `attempt.current` on to `next`, with the copy of its body. */
  async function resend(
    req: IncomingMessage,
    res: ServerResponse,
    attempt: Attempts,
    next: string,
    failure: Error,
  ) {
    attempt.tried.add(next);
    attempt.current = next;
    attempt.connected = false;
    logger.debug('proxy: no connection to the instance, sending to the next one', {
      service,
      method: req.method,
      instance: next,
    });
    const body = await attempt.body?.replay(timeoutMs);
    if (!body || !proxyServer) return fail(failure, req, res);
    // The first pass added X-Forwarded-* to req.headers already; adding them again would repeat them.
    proxyServer.web(req, res, { ...forwarding, xfwd: false, target: next, buffer: body });
  }

  function fail(error: Error, req: IncomingMessage, res: ServerResponse | Socket) {
    const code = (error as NodeJS.ErrnoException).code;
    const timeout = timedOut.has(req);
    logger.warn('proxy failed', {
      request_id: (res as Response).locals?.requestId,
      service,
      instance: attempts.get(req)?.current,
      method: req.method,
      path: (req as Request).originalUrl ?? req.url,
      err: code ?? error.message,
      timeout,
    });
    if (!(res instanceof ServerResponse)) return void res.destroy();
    if (res.headersSent) return void res.destroy();
    sendProblem(
      res as Response,
      timeout
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
