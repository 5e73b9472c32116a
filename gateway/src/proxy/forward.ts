import { request, type Agent, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { answerHeaders } from './forwarded-headers';

/** One instance of a service as the forwarder needs it, parsed once. */
export interface ForwardTarget {
  url: string;
  hostname: string;
  port: number;
  /** The Host header it is sent (http-proxy's `changeOrigin`). */
  host: string;
  /** Its base URL's path, put before every forwarded path ('' for none). */
  pathPrefix: string;
}

/**
 * Only plain http: http-proxy was handed an http agent, so an https instance failed on every
 * request; now it is refused when the gateway starts.
 */
export function forwardTarget(url: string): ForwardTarget {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:') throw new TypeError(`the gateway forwards to http:// instances only: ${url}`);
  return {
    url,
    hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(parsed.port || 80),
    host: parsed.host,
    pathPrefix: parsed.pathname.replace(/\/+$/, ''),
  };
}

export interface ForwardFailure {
  error: NodeJS.ErrnoException;
  /** A connection to the instance was open, so it may have received the request (and acted on it). */
  connected: boolean;
  /** The instance connected but sent nothing for `timeoutMs`. */
  timedOut: boolean;
}

export interface Forwarding {
  agent: Agent;
  /** How long the instance may stay silent once connected (an idle timeout, as http-proxy's `proxyTimeout`). */
  timeoutMs: number;
  /** How long opening the connection may take, DNS lookup included. */
  connectTimeoutMs: number;
  /** The connection is open (at once on a reused keep-alive socket). */
  onConnected(): void;
  /** Called at most once, never after the answer was complete or the client went away. */
  onFailure(failure: ForwardFailure): void;
}

/**
 * Sends one request to one instance and streams its answer back: `body` (the request itself, or a
 * copy of its body) is piped up, the answer's status, headers (less hop-by-hop ones) and body down.
 * What goes wrong is reported once through `onFailure`, with whether a connection had opened; the
 * caller decides between another instance and a problem answer. A client that goes away before
 * its answer is complete takes the request to the instance with it, silently.
 */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  target: ForwardTarget,
  path: string,
  headers: OutgoingHttpHeaders,
  body: Readable,
  forwarding: Forwarding,
): void {
  let connected = false;
  let timedOut = false;
  let settled = false;
  headers.host = target.host;
  const upstream = request({
    hostname: target.hostname,
    port: target.port,
    method: req.method,
    path: target.pathPrefix + path,
    headers,
    agent: forwarding.agent,
  });

  const fail = (error: NodeJS.ErrnoException) => {
    if (settled) return;
    settled = true;
    forwarding.onFailure({ error, connected, timedOut });
  };
  const onConnected = () => {
    connected = true;
    forwarding.onConnected();
  };

  upstream.on('error', fail);
  upstream.once('socket', (socket: Socket) => {
    if (!socket.connecting) return onConnected();
    const connectTimer = setTimeout(() => {
      const error: NodeJS.ErrnoException = new Error(`no connection within ${forwarding.connectTimeoutMs} ms`);
      error.code = 'ECONNECTTIMEOUT';
      upstream.destroy(error);
    }, forwarding.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(connectTimer);
      onConnected();
    });
    socket.once('close', () => clearTimeout(connectTimer));
  });
  upstream.setTimeout(forwarding.timeoutMs, () => {
    if (settled) return;
    timedOut = true;
    const error: NodeJS.ErrnoException = new Error(`no answer within ${forwarding.timeoutMs} ms`);
    error.code = 'ETIMEDOUT';
    fail(error);
    upstream.destroy();
  });
  res.once('close', () => {
    if (res.writableFinished) return;
    // The client went away (or the answer was cut short and already reported): nothing more to send or say.
    settled = true;
    upstream.destroy();
  });

  upstream.once('response', (answer: IncomingMessage) => {
    if (settled) return void answer.resume();
    // A break mid-answer is reported too; its status line is gone, so the caller closes the client's connection.
    answer.once('close', () => {
      if (answer.complete) settled = true;
      else fail(Object.assign(new Error('answer cut short'), { code: 'ECONNRESET' }));
    });
    const code = answer.statusCode!;
    if (answer.statusMessage) res.writeHead(code, answer.statusMessage, answerHeaders(answer));
    else res.writeHead(code, answerHeaders(answer));
    answer.pipe(res);
  });

  body.pipe(upstream);
}
