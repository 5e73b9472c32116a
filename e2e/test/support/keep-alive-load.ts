import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Where the test was when a request was sent or settled; it moves the load on with `mark`. */
export type Phase = 'before' | 'signalled' | 'exited';

export interface Outcome {
  id: number;
  sent: Phase;
  settled: Phase;
  status?: number;
  headers?: IncomingHttpHeaders;
  /** The whole body, when the response arrived complete. */
  body?: string;
  /** Set when no complete response arrived; `midResponse` when part of one already had. */
  error?: { code: string; midResponse: boolean };
}

export interface KeepAliveLoad {
  mark(phase: Phase): void;
  /** Resolves once `count` requests sent in `phase` have settled. */
  settledIn(phase: Phase, count: number): Promise<void>;
  /** Stops sending, waits for the requests in flight, and returns every outcome. */
  stop(): Promise<Outcome[]>;
}

/**
 * `workers` loops, each sending its next request as soon as the previous one settled, over one
 * keep-alive agent — the way the gateway's agent (or any pooling client) reuses its sockets. A
 * request that gets no complete response is recorded with its error, never retried.
 */
export function startKeepAliveLoad(options: {
  url: string;
  workers: number;
  next: (id: number) => LoadRequest;
  /** A request with no answer after this long is recorded as failed (`timeout`). Default 15 s. */
  timeoutMs?: number;
}): KeepAliveLoad {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.workers });
  const outcomes: Outcome[] = [];
  const waiters: { phase: Phase; count: number; resolve: () => void }[] = [];
  let phase: Phase = 'before';
  let stopped = false;
  let nextId = 0;

  const record = (outcome: Outcome) => {
    outcomes.push(outcome);
    for (const waiter of [...waiters]) {
      if (outcomes.filter((o) => o.sent === waiter.phase).length < waiter.count) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };

  const send = (id: number): Promise<Outcome> => {
    const spec = options.next(id);
    const sent = phase;
    return new Promise((resolve) => {
      let responded = false;
      let done = false;
      const settle = (fields: Partial<Outcome>) => {
        if (done) return;
        done = true;
        resolve({ id, sent, settled: phase, ...fields });
      };
      const fail = (error: NodeJS.ErrnoException) =>
        settle({ error: { code: error.code ?? error.message, midResponse: responded } });
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          method: spec.method,
          path: spec.path,
          headers: spec.headers,
          agent,
        },
        (res) => {
          responded = true;
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => settle({ status: res.statusCode, headers: res.headers, body }));
          res.on('aborted', () => fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
          res.on('error', fail);
        },
      );
      req.setTimeout(options.timeoutMs ?? 15_000, () =>
        req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })),
      );
      req.on('error', fail);
      req.end(spec.body);
    });
  };

  const worker = async () => {
    while (!stopped) {
      const outcome = await send(nextId++);
      record(outcome);
      // A refused connection comes back at once; do not spin on it.
      if (outcome.error) await sleep(10);
    }
  };
  const workers = Array.from({ length: options.workers }, worker);

  return {
    mark: (next) => void (phase = next),
    settledIn: (of, count) =>
      outcomes.filter((o) => o.sent === of).length >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ phase: of, count, resolve })),
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      agent.destroy();
      return outcomes;
    },
  };
}
