import type { Pool } from 'pg';
import { describeDatabaseError } from '../database-connection-errors';
import type { Logger } from '../logger';
import { checkOutClient, type CheckedOutClient } from '../pg';

export const OUTBOX_CHANNEL = 'outbox_events';

/**
 * Holds one database connection on `LISTEN outbox_events` so the relay wakes as soon as a
 * transaction that wrote outbox rows commits (the table's statement trigger notifies). If the
 * connection drops (a restart, a failover, a terminated backend) it listens again on a fresh one
 * after `retryMs` — for as long as it takes — and then calls `onListening` (default `onNotify`),
 * because notifications sent meanwhile are lost and the database is evidently back; the relay's
 * polling covers the gap either way.
 */
export function createOutboxListener(options: {
  pool: Pool;
  logger: Logger;
  onNotify: () => void;
  /** Called each time LISTEN succeeds: at start and after every reconnect. */
  onListening?: () => void;
  retryMs?: number;
}): { start(): Promise<void>; stop(): Promise<void> } {
  const { pool, logger, onNotify, onListening = onNotify, retryMs = 2_000 } = options;
  let current: CheckedOutClient | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const retryLater = () => {
    clearTimeout(retryTimer);
    if (!stopped) retryTimer = setTimeout(() => void connect(), retryMs);
  };

  // A dying connection can report twice (the server's FATAL, then the socket's end) and its
  // LISTEN can reject too: only the first report about the connection still in use counts.
  const drop = (held: CheckedOutClient, error: Error) => {
    if (current !== held) return;
    current = undefined;
    held.client.removeListener('notification', onNotify);
    held.release(error);
    logger.warn('outbox listener lost its connection, relying on polling until it is back', {
      err: describeDatabaseError(error),
    });
    retryLater();
  };

  async function connect(): Promise<void> {
    if (stopped || current) return;
    let held: CheckedOutClient;
    try {
      held = await checkOutClient(pool);
    } catch (error) {
      logger.warn('outbox listener could not connect, retrying', { err: describeDatabaseError(error) });
      return retryLater();
    }
    current = held;
    held.client.on('notification', onNotify);
    held.client.on('error', (error: Error) => drop(held, error));
    try {
      await held.client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (error) {
      return drop(held, error as Error);
    }
    if (stopped) return release();
    onListening();
  }

  function release(): void {
    const held = current;
    if (!held) return;
    current = undefined;
    held.client.removeListener('notification', onNotify);
    // Destroyed rather than returned to the pool: a pooled connection must not keep listening.
    held.release(new Error('outbox listener stopped'));
  }

  return {
    start: () => connect(),
    stop: async () => {
      stopped = true;
      clearTimeout(retryTimer);
      release();
    },
  };
}
