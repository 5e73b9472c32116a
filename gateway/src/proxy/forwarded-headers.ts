import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1) describe one connection, so they never cross the gateway:
 * each side's connection is framed and kept alive by Node itself. Fields a `Connection` header
 * names are not dropped with them (nginx does not either): a client could otherwise strip headers
 * the gateway adds (X-Request-Id, traceparent) from what the service receives.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade']);
const PORT_IN_HOST = /:(\d+)$/;
/** Backslashes, a fragment or repeated slashes: what http-proxy's path handling changed. */
const ODD_PATH = /[\\#]|\/\//;

const appended = (earlier: string | undefined, value: string) => (earlier ? `${earlier},${value}` : value);

/**
 * The headers a request goes to a service with (its Host is the instance's, set per attempt):
 * the client's, less hop-by-hop ones, plus X-Forwarded-For/-Port/-Proto appended to any the client
 * sent and X-Forwarded-Host unless the client sent one, as http-proxy's `xfwd` wrote them.
 * Transfer-Encoding stays: it is how Node frames the body it sends on (a chunked DELETE would
 * otherwise go out unframed).
 */
export function requestHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const incoming = req.headers;
  const headers: OutgoingHttpHeaders = {};
  for (const name in incoming) {
    if (name === 'transfer-encoding' || !HOP_BY_HOP.has(name)) headers[name] = incoming[name];
  }
  const encrypted = (req.socket as Partial<TLSSocket>).encrypted === true;
  const host = incoming.host;
  headers['x-forwarded-for'] = appended(incoming['x-forwarded-for'] as string | undefined, req.socket.remoteAddress ?? '');
  headers['x-forwarded-port'] = appended(
    incoming['x-forwarded-port'] as string | undefined,
    (host && PORT_IN_HOST.exec(host)?.[1]) || (encrypted ? '443' : '80'),
  );
  headers['x-forwarded-proto'] = appended(incoming['x-forwarded-proto'] as string | undefined, encrypted ? 'https' : 'http');
  headers['x-forwarded-host'] = incoming['x-forwarded-host'] || host || '';
  // http-proxy's rule, kept: a DELETE or OPTIONS says outright that it has no body.
  if ((req.method === 'DELETE' || req.method === 'OPTIONS') && !incoming['content-length'] && !incoming['transfer-encoding'])
    headers['content-length'] = '0';
  return headers;
}

/** The headers of a service's answer that reach the client: all but hop-by-hop ones (Content-Length stays). */
export function answerHeaders(answer: IncomingMessage): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const name in answer.headers) if (!HOP_BY_HOP.has(name)) headers[name] = answer.headers[name];
  return headers;
}

/**
 * The path (with query) a request goes to a service with: the one it arrived with, except that,
 * as http-proxy did (`url.parse`, then its URL join), a fragment is dropped and, before the query,
 * backslashes become slashes and repeated slashes one.
 */
export function forwardedPath(url: string): string {
  if (!ODD_PATH.test(url)) return url;
  const fragment = url.indexOf('#');
  const whole = fragment < 0 ? url : url.slice(0, fragment);
  const query = whole.indexOf('?');
  const path = query < 0 ? whole : whole.slice(0, query);
  return path.replace(/\\/g, '/').replace(/\/{2,}/g, '/') + (query < 0 ? '' : whole.slice(query));
}
