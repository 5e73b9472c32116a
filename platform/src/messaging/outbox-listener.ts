import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../logger';

export const OUTBOX_CHANNEL = 'outbox_events';

/**
 * Holds one database connection on `LISTEN outbox_events` so the relay wakes as soon as a
 * transaction that wrote outbox rows commits (the table's statement trigger notifies). If the
 * connection drops it reconnects after `retryMs` and wakes the relay once, because notifications
 * sent meanwhile are lost; the relay's polling covers the gap either way.
 */
export function createOutboxListener(options: {
  pool: Pool;
  logger: Logger;
  onNotify: () => void;
  retryMs?: number;
}): { start(): Promise<void>; stop(): Promise<void> } {
  const { pool, logger, onNotify, retryMs = 2_000 } = options;
  let client: PoolClient | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const drop = (error: Error) => {
    logger.warn('outbox listener lost its connection, relying on polling until it is back', {
      err: error.message,
    });
    client?.release(error);
    client = undefined;
    if (!stopped) retryTimer = setTimeout(() => void connect(), retryMs);
  };

  async function connect(): Promise<void> {
    try {
      const next = await pool.connect();
      next.on('notification', onNotify);
      next.on('error', drop);
      client = next;
      await next.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (stopped) return release();
      onNotify();
    } catch (error) {
      if (client) drop(error as Error);
      else if (!stopped) {
        logger.warn('outbox listener could not connect, retrying', { err: (error as Error).message });
        retryTimer = setTimeout(() => void connect(), retryMs);
      }
    }
  }

  function release(): void {
    if (!client) return;
    client.removeListener('notification', onNotify);
    client.removeListener('error', drop);
    // Destroyed rather than returned to the pool: a pooled connection must not keep listening.
    client.release(true);
    client = undefined;
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
