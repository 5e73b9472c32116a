import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** What a request can learn about its server's drain: whether it has begun, and a signal when it does. */
export interface Drain {
  /** Aborted the moment the server begins to drain (SIGTERM); never un-aborted. */
  readonly signal: AbortSignal;
}

interface DrainState extends Drain {
  begin(): void;
  /** Responses not finished yet, so the drain can still mark them `Connection: close`. */
  readonly inFlight: Set<ServerResponse>;
  closed?: Promise<void>;
}

const DRAIN = Symbol('shop.drain');
const states = new WeakMap<Server, DrainState>();

/**
 * Makes a server drainable (listen() does this for every service): each request learns its
 * server's drain state (`drainOf`), and responses in flight are tracked so that a drain can still
 * close their connections after them. Idempotent.
 */
export function drainable(server: Server): Drain {
  return stateOf(server);
}

/** The drain of the server this request arrived on; undefined for an app not served through listen(). */
export function drainOf(req: IncomingMessage): Drain | undefined {
  return (req as IncomingMessage & { [DRAIN]?: Drain })[DRAIN];
}

/**
 * Drains a server and resolves once its last connection has closed: it stops accepting
 * connections, closes idle keep-alive sockets at once, lets every request in flight finish, and
 * answers it — and any request still arriving on an open socket — with `Connection: close`, so the
 * client's keep-alive agent drops the socket after the response instead of sending the next
 * request on it. Without that, a busy socket at the moment of close() stayed open for the
 * keep-alive timeout and its client (the gateway's agent) kept reusing it: the drain never ended.
 */
export function drainServer(server: Server): Promise<void> {
  const state = stateOf(server);
  state.closed ??= new Promise<void>((resolve, reject) => {
    state.begin();
    for (const res of state.inFlight) {
      if (!res.headersSent) closeAfterResponse(res);
      // Its headers went out promising keep-alive: close the socket as soon as it is idle again.
      else res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
    }
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
  return state.closed;
}

function stateOf(server: Server): DrainState {
  const existing = states.get(server);
  if (existing) return existing;
  const controller = new AbortController();
  const inFlight = new Set<ServerResponse>();
  const state: DrainState = { signal: controller.signal, inFlight, begin: () => controller.abort() };
  // Prepended, so it runs before the app and every response is marked before anything is written.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    (req as IncomingMessage & { [DRAIN]?: Drain })[DRAIN] = state;
    if (state.signal.aborted) return closeAfterResponse(res);
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  states.set(server, state);
  return state;
}

/**
 * `Connection: close` on this response, and it stays so: a handler (or a proxy copying the
 * upstream's `Connection: keep-alive`) cannot set it back, which would keep the socket open.
 */
function closeAfterResponse(res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  const setHeader = res.setHeader;
  res.setHeader = function (this: ServerResponse, name: string, value: number | string | readonly string[]) {
    return name.toLowerCase() === 'connection' ? this : setHeader.call(this, name, value);
  };
}
