import { QUEUES } from '@shop/contracts';
import { Pool } from 'pg';
import type { Logger } from '../logger';
import { processMetrics, type Metrics } from '../observability/metrics';
import { backoffDelay, createSleeper, type BackoffOptions } from './backoff';
import { closeChannel, type BrokerConnection } from './broker-connection';
import { createOutboxListener } from './outbox-listener';
import { publishConfirmed, type OutboxRow } from './outbox-publisher';
import { declareTopology } from './topology';

export interface OutboxRelayOptions {
  /** The service's database: a pool the caller owns, or a connection string (the relay then owns its pool). */
  pool: Pool | string;
  connection: BrokerConnection;
  logger: Logger;
  /** Rows claimed per transaction. Default 500. */
  batchSize?: number;
  /** Unconfirmed publishes in flight at once. Default 200. */
  window?: number;
  /** Polling fallback when no NOTIFY arrives. Default 1000 ms. */
  pollIntervalMs?: number;
  /** A publish not confirmed within this fails the batch (keep it under the shutdown grace period). Default 5 s. */
  publishTimeoutMs?: number;
  /** Waits between failed attempts (broker down, publish failed, database down). Default 200 ms … 10 s. */
  backoff?: BackoffOptions;
  /** Published rows older than `keepMs` are deleted every `everyMs`. Default: keep 7 days, check hourly. */
  retention?: { keepMs: number; everyMs: number };
  /** Wake on LISTEN/NOTIFY as well as polling. Default true. */
  listen?: boolean;
  /** Where published counts, batch sizes and publish latency are recorded. Default: the process registry. */
  metrics?: Metrics;
}

export interface OutboxRelay {
  start(): Promise<void>;
  /** Finishes the batch in flight, then stops for good; unclaimed rows stay for the next process. */
  stop(): Promise<void>;
  /** Claims, publishes and marks one batch; returns how many rows it published. */
  drainOnce(): Promise<number>;
  /** Deletes published rows older than the retention period; returns how many it deleted. */
  pruneOnce(): Promise<number>;
}

export class BrokerUnavailableError extends Error {
  constructor() {
    super('broker is not connected');
    this.name = 'BrokerUnavailableError';
  }
}

const CLAIM = `
  SELECT id, type, exchange, routing_key, payload::text AS body, headers,
         payload->>'correlationid' AS correlation_id, payload->>'source' AS source,
         floor(extract(epoch FROM created_at))::bigint AS created_epoch
    FROM outbox_events
   WHERE published_at IS NULL
   ORDER BY position
   LIMIT $1
   FOR UPDATE SKIP LOCKED`;
const MARK_PUBLISHED = `UPDATE outbox_events SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::uuid[])`;
const RECORD_FAILURE = `UPDATE outbox_events SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::uuid[])`;
const PRUNE = `
  DELETE FROM outbox_events WHERE id IN (
    SELECT id FROM outbox_events
     WHERE published_at < now() - $1::bigint * interval '1 millisecond'
     LIMIT $2)`;
const PRUNE_CHUNK = 5_000;

/**
 * The outbox relay (SPEC §6): moves committed outbox rows to RabbitMQ, at least once and in
 * outbox order.
 *
 * Each batch is one transaction: claim the oldest unpublished rows `FOR UPDATE SKIP LOCKED`,
 * publish them on a confirm channel, and mark them published only after every confirm — then
 * commit. The claim's locks are held through the confirms, so several relays over one outbox
 * take disjoint batches and never publish a row twice in normal operation. If publishing fails
 * the rows stay unpublished (attempts and last_error are recorded) and the relay backs off; if
 * the relay dies after publishing but before committing, the rows are published again, which
 * the consumers' inbox absorbs. While the broker is away nothing is claimed: rows simply wait.
 *
 * It wakes on NOTIFY from the outbox trigger, polls as a fallback, and loops without sleeping
 * while batches come back full.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { connection, logger } = options;
  const metrics = options.metrics ?? processMetrics();
  const batchSize = options.batchSize ?? 500;
  const window = options.window ?? 200;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const backoff = options.backoff ?? { initialMs: 200, maxMs: 10_000 };
  const retention = options.retention ?? { keepMs: 7 * 24 * 3600_000, everyMs: 3600_000 };
  const ownsPool = typeof options.pool === 'string';
  const pool =
    typeof options.pool === 'string' ? new Pool({ connectionString: options.pool, max: 3 }) : options.pool;
  const onPoolError = (error: Error) =>
    logger.warn('outbox relay database connection error', { err: error.message });
  pool.on('error', onPoolError);

  const channel = connection.createChannel({
    name: 'outbox-relay',
    confirm: true,
    // The whole topology exists before the first publish: exchanges, so a fresh broker cannot close
    // the channel with a 404, and every subscriber's queue, so an event published before its
    // consumer's first start is queued for it instead of being dropped as unroutable.
    setup: (ch: Parameters<typeof declareTopology>[0]) => declareTopology(ch, Object.values(QUEUES)),
  });
  const idle = createSleeper();
  const pause = createSleeper();
  let wakePending = false;
  const wake = () => {
    wakePending = true;
    idle.wake();
  };
  const listener =
    options.listen === false ? undefined : createOutboxListener({ pool, logger, onNotify: wake });
  const removeConnectListener = connection.onConnect(() => pause.wake());
  let loop: Promise<void> | undefined;
  let stopping = false;

  async function drainOnce(): Promise<number> {
    if (!connection.isConnected()) throw new BrokerUnavailableError();
    const client = await pool.connect();
    let inTransaction = false;
    let brokenClient: Error | undefined;
    try {
      await client.query('BEGIN');
      inTransaction = true;
      const { rows } = await client.query<OutboxRow>(CLAIM, [batchSize]);
      const ids = rows.map((row) => row.id);
      let publishError: Error | undefined;
      if (rows.length > 0) {
        const stopTimer = metrics.relayPublishSeconds.startTimer();
        publishError = await publishConfirmed(channel, rows, { window, timeoutMs: publishTimeoutMs }).then(
          () => undefined,
          (error: Error) => error,
        );
        if (!publishError) stopTimer();
        if (publishError) await client.query(RECORD_FAILURE, [ids, publishError.message]);
        else await client.query(MARK_PUBLISHED, [ids]);
      }
      await client.query('COMMIT');
      inTransaction = false;
      if (publishError) throw publishError;
      if (rows.length > 0) recordPublished(metrics, rows);
      if (rows.length > 0) logger.debug('outbox batch published', { count: rows.length });
      return rows.length;
    } catch (error) {
      if (inTransaction)
        await client.query('ROLLBACK').catch((rollbackError: Error) => (brokenClient = rollbackError));
      throw error;
    } finally {
      client.release(brokenClient);
    }
  }

  async function pruneOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await pool.query(PRUNE, [retention.keepMs, PRUNE_CHUNK]);
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < PRUNE_CHUNK) break;
    }
    if (total > 0) logger.info('outbox retention deleted published rows', { count: total });
    return total;
  }

  async function run(): Promise<void> {
    let failures = 0;
    let lastPrune = 0;
    while (!stopping) {
      let published: number;
      try {
        published = await drainOnce();
        failures = 0;
      } catch (error) {
        failures++;
        const waitMs = backoffDelay(failures, backoff);
        const level = error instanceof BrokerUnavailableError ? 'info' : 'warn';
        logger.log(level, 'outbox relay cannot publish, backing off', {
          err: (error as Error).message,
          attempt: failures,
          waitMs,
        });
        if (!stopping) await pause.sleep(waitMs);
        continue;
      }
      if (Date.now() - lastPrune >= retention.everyMs) {
        lastPrune = Date.now();
        await pruneOnce().catch((error: Error) =>
          logger.warn('outbox retention failed', { err: error.message }),
        );
      }
      if (published === batchSize || stopping) continue;
      if (!wakePending && !stopping) await idle.sleep(pollIntervalMs);
      wakePending = false;
    }
  }

  return {
    drainOnce,
    pruneOnce,
    start: async () => {
      if (loop) return;
      stopping = false;
      await listener?.start();
      loop = run();
      logger.info('outbox relay started', { batchSize, window, pollIntervalMs });
    },
    stop: async () => {
      stopping = true;
      idle.wake();
      pause.wake();
      await loop;
      loop = undefined;
      removeConnectListener();
      await listener?.stop();
      await closeChannel(channel);
      pool.removeListener('error', onPoolError);
      if (ownsPool) await pool.end();
      logger.info('outbox relay stopped');
    },
  };
}

// Counted once the batch is committed as published; a batch whose COMMIT failed is published again later and counted then.
function recordPublished(metrics: Metrics, rows: OutboxRow[]): void {
  metrics.relayBatchSize.observe(rows.length);
  const byType = new Map<string, number>();
  for (const row of rows) byType.set(row.type, (byType.get(row.type) ?? 0) + 1);
  for (const [type, count] of byType) metrics.eventsPublished.inc({ type }, count);
}
