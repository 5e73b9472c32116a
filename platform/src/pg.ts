import { Pool, type PoolClient } from 'pg';
import { describeDatabaseError } from './database-connection-errors';
import { createLogger, type Logger } from './logger';

/**
 * How long a pooled connection may sit idle before the pool closes it. Long on purpose: a pool
 * sized for a burst that closes its spare connections once the burst is over (pg's default is
 * 10 s, ours was 30 s) stalled every service for 0.2–0.5 s about 30 s after each burst in the
 * bench, while the connections were closed under steady load — the whole commit → stock p99 tail
 * (84–539 ms in seven runs; 34–60 ms in three without the churn; docs/decisions.md 16). Pools
 * are small and bounded (`max`), so keeping them warm costs a few idle backends.
 * `allowExitOnIdle` keeps a script or test that forgets `pool.end()` from waiting out the timeout.
 */
export const POOL_IDLE_OPTIONS = { idleTimeoutMillis: 10 * 60_000, allowExitOnIdle: true } as const;

/**
 * A service's `pg` pool. An idle connection that the server drops (a restart, a failover, a
 * database dropped under it) emits 'error' on the pool; without a listener that would crash the
 * process, so it becomes a warning and the pool opens a fresh connection on the next query.
 */
export function createPgPool(
  connectionString: string,
  options: { max?: number; logger?: Logger } = {},
): Pool {
  // Pipeline mode: a query is sent without waiting for the answer to the one before, so a
  // transaction can send its reads behind BEGIN, and its writes with the COMMIT (`openTransaction`).
  // Code that awaits each query sees no difference; each query still gets its own result or error.
  const pool = new Pool({ connectionString, max: options.max ?? 10, pipeline: true, ...POOL_IDLE_OPTIONS });
  const logger = options.logger ?? createLogger('database');
  pool.on('error', (error) =>
    logger.warn('idle database connection lost; the pool reconnects', { err: describeDatabaseError(error) }),
  );
  // Every client listens for as long as it lives. The pool listens only while a client is idle, and
  // a borrower that awaits `pool.connect()` attaches its own listener a microtask after the pool let
  // go — after the rest of the socket's buffer, which may hold the server's FATAL, was parsed. A
  // library borrowing clients (Kysely's pg driver) has that gap too. The error itself still
  // reaches whoever uses the client: node-postgres fails its queries and the pool discards it.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** A client checked out of a pool, with the error its connection died of, if it did. */
export interface CheckedOutClient {
  client: PoolClient;
  /** Set once the connection is lost (terminated backend, failover, cut network); every query then rejects. */
  readonly lost: Error | undefined;
  /** Hands the client back; with an error, or once its connection was lost, it is destroyed, not pooled. Idempotent. */
  release(error?: Error): void;
}

/**
 * `pool.connect()` for code that holds a client: node-postgres emits 'error' on a client whose
 * connection dies, and the pool listens only while the client sits idle in it — a checked-out
 * client without a listener of its own turns a Postgres restart or failover into an unhandled
 * 'error' that ends the process. This listens for as long as the client is out and keeps the
 * error: the query in flight (or the next one) rejects anyway, and `release()` discards the client.
 */
export async function checkOutClient(pool: Pool): Promise<CheckedOutClient> {
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost ??= error;
  };
  // The callback form: the pool calls it in the same tick it stops listening itself, so there is
  // no moment without a listener (an awaited promise would resume a microtask later).
  const client = await new Promise<PoolClient>((resolve, reject) =>
    pool.connect((error, connected) => {
      if (error || !connected) return reject(error ?? new Error('the pool handed out no client'));
      connected.on('error', onError);
      resolve(connected);
    }),
  );
  let released = false;
  return {
    client,
    get lost() {
      return lost;
    },
    release: (error) => {
      if (released) return;
      released = true;
      // The pool puts its own idle listener on before anything else can happen, so there is no gap.
      client.removeListener('error', onError);
      client.release(error ?? lost);
    },
  };
}
