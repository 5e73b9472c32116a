import { QUEUES } from '@shop/contracts';
import type { Pool } from 'pg';
import { describeDatabaseError, isDatabaseUnavailable } from '../database-connection-errors';
import type { Logger } from '../logger';
import { processMetrics, type Metrics } from '../observability/metrics';
import { checkOutClient, createPgPool, type CheckedOutClient } from '../pg';
import { backoffDelay, createSleeper, type BackoffOptions } from './backoff';
import { closeChannel, type BrokerConnection } from './broker-connection';
import { createOutboxListener } from './outbox-listener';
import { createConfirmPublisher, type OutboxRow } from './outbox-publisher';
import { declareTopology } from './topology';

/**
 * Tuning every relay uses unless told otherwise. A window of 1000 unconfirmed messages keeps a
 * quorum queue's confirm pipeline full; the bench's raw-publish baseline uses the same window.
 */
export const RELAY_DEFAULTS = { batchSize: 1000, window: 1000, pipeline: 2 } as const;

export interface OutboxRelayOptions {
  /** The service's database: a pool the caller owns, or a connection string (the relay then owns its pool). */
  pool: Pool | string;
  connection: BrokerConnection;
  logger: Logger;
  /** Rows claimed per transaction. Default RELAY_DEFAULTS.batchSize. */
  batchSize?: number;
  /** Unconfirmed publishes in flight at once, across every batch in flight. Default RELAY_DEFAULTS.window. */
  window?: number;
  /**
   * Batches in flight at once while running (each its own transaction and pooled connection):
   * the next batch is claimed and published while the previous one's confirms are outstanding.
   * Default 2; 1 waits for every confirm of a batch before claiming the next.
   */
  pipeline?: number;
  /** Polling fallback when no NOTIFY arrives. Default 1000 ms. */
  pollIntervalMs?: number;
  /** A publish not confirmed within this fails the batch (keep it under the shutdown grace period). Default 5 s. */
  publishTimeoutMs?: number;
  /** Waits between failed attempts (broker down, publish failed, database down). Default 200 ms … 10 s. */
  backoff?: BackoffOptions;
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
  /** Moves the scheduled rows that are due into the outbox; returns how many it moved. */
  releaseDueOnce(): Promise<number>;
}

export class BrokerUnavailableError extends Error {
  constructor() {
    super('broker is not connected');
    this.name = 'BrokerUnavailableError';
  }
}

/*
 * Claims the oldest unpublished rows no other transaction holds, and says of each whether it may be
 * published now: not while an earlier row of its aggregate is unpublished and outside this claim —
 * held by a batch still in flight (another relay's, or this relay's previous one), or left after a
 * failed publish. So one aggregate's events reach the broker in outbox order however many relays
 * run (SPEC §6 "Ordering"); a held-back row stays unpublished and is claimed again once the earlier
 * one is out. The claim takes every column it publishes: joining back to the partitioned outbox made
 * the planner hash the whole table, history included (decision 36). The rows it must wait for are
 * found in one walk of the unpublished index up to the claim's last position, not by a probe per
 * claimed row into every day's partition: over ten days of history that took a third longer
 * (decision 39).
 */
export const RELAY_CLAIM_TEXT = `
  WITH claimed AS (
    SELECT id, position, aggregate_type, aggregate_id, type, exchange, routing_key, payload, headers, created_at
      FROM outbox_events
     WHERE published_at IS NULL
     ORDER BY position
     LIMIT $1
     FOR UPDATE SKIP LOCKED),
  waited_for AS (
    SELECT aggregate_type, aggregate_id, min(position) AS first
      FROM outbox_events
     WHERE published_at IS NULL
       AND position < (SELECT max(position) FROM claimed)
       AND id NOT IN (SELECT id FROM claimed)
     GROUP BY aggregate_type, aggregate_id)
  SELECT c.id, c.type, c.exchange, c.routing_key, c.payload::text AS body, c.headers,
         c.payload->>'correlationid' AS correlation_id, c.payload->>'source' AS source,
         floor(extract(epoch FROM c.created_at))::bigint AS created_epoch,
         w.first IS NULL OR w.first > c.position AS ready
    FROM claimed c
    LEFT JOIN waited_for w ON w.aggregate_type = c.aggregate_type AND w.aggregate_id = c.aggregate_id
   ORDER BY c.position`;
/**
 * The claim's transaction settings, sent with its BEGIN. A relay that stops answering (a frozen
 * process, a half-open connection) must not hold its claim's row locks for good: later rows of those
 * aggregates wait for them. And the claim walks the unpublished indexes in order, never as a bitmap:
 * every row the relay marks published leaves its old version's entry in those indexes until VACUUM,
 * and only an ordered index scan flags such an entry dead when it meets it, so the next claims skip
 * it unread. A bitmap scan reads every published row's page again at each claim; over 30 000 rows
 * published since the last VACUUM that was 2 300 buffers a claim instead of 170 (decision 40).
 * Nor does it ever read a day's partition whole: once a day's unpublished rows no longer lie in
 * position order on disk (new rows fill the space VACUUM freed), the planner costed the wait check's
 * walk (`position <` the claim's last, a bound it cannot see) above a scan of the whole day, and took
 * the scan at every claim: over a day of 110 000 rows that was 22 000 buffers a claim instead of
 * 1 300, and the relay's rate fell by a third (decision 42). Every scan in the claim is one the
 * unpublished index answers, so forbidding the others changes nothing else.
 * Postgres may plan the claim once for all batches (its generic plan) after five runs: over 1 M rows
 * of history that plan now claims as fast as one made for the batch, and saves the planning, 0.4 ms
 * of Postgres CPU a claim (decision 40; decision 36 had forced a plan per claim for an earlier shape).
 */
export const claimSettings = (idleInClaimMs: number) =>
  `SET LOCAL idle_in_transaction_session_timeout = ${idleInClaimMs}; ` +
  'SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off';
/** How soon a relay that could publish nothing but held-back rows claims again (doubling, up to its poll interval). */
const HELD_BACK_RETRY_MS = 25;
// Named: parsed once per connection, then bound and executed (see claimSettings for how it is planned).
const CLAIM = { name: 'outbox-relay-claim', text: RELAY_CLAIM_TEXT };
/*
 * $2 and $3, the batch's oldest created_at rounded down to whole seconds and the second after its
 * newest (rounded down, plus one), keep every other day's partition out of the plan: the older
 * days', and the days ahead, whose empty indexes would otherwise be probed once for each id of the
 * batch (the claim's transaction allows no sequential scan, see claimSettings).
 */
export const RELAY_MARK_TEXT = `UPDATE outbox_events SET published_at = now(), attempts = attempts + 1
                         WHERE id = ANY($1::uuid[]) AND created_at >= to_timestamp($2) AND created_at < to_timestamp($3)`;
const RECORD_FAILURE = `UPDATE outbox_events SET attempts = attempts + 1, last_error = $4
                         WHERE id = ANY($1::uuid[]) AND created_at >= to_timestamp($2) AND created_at < to_timestamp($3)`;
/*
 * Scheduled rows that are due move into the outbox in one statement, oldest due first: the row is in
 * one table or the other, never both and never neither, and SKIP LOCKED lets several relays move
 * disjoint rows. From the outbox the claim publishes them like any other row.
 */
const RELEASE_DUE = `
  WITH due AS (
    DELETE FROM scheduled_events WHERE id IN (
      SELECT id FROM scheduled_events WHERE deliver_at <= now()
       ORDER BY deliver_at LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING id, deliver_at, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, headers)
  INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, headers)
  SELECT id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, headers
    FROM due ORDER BY deliver_at`;
const RELEASE_CHUNK = 1_000;

/**
 * The outbox relay (SPEC §6): moves committed outbox rows to RabbitMQ, at least once and in
 * outbox order.
 *
 * Each batch is one transaction: claim the oldest unpublished rows `FOR UPDATE SKIP LOCKED`,
 * publish them on a confirm channel, and mark them published only after every confirm — then
 * commit. The claim's locks are held through the confirms, so several relays over one outbox
 * take disjoint batches and never publish a row twice in normal operation; a claimed row whose
 * aggregate has an earlier row still unpublished elsewhere is held back, so each aggregate's events
 * go out in outbox order however many relays run. If publishing fails
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
  const batchSize = options.batchSize ?? RELAY_DEFAULTS.batchSize;
  const window = options.window ?? RELAY_DEFAULTS.window;
  const pipeline = Math.max(1, options.pipeline ?? RELAY_DEFAULTS.pipeline);
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  /** Past this a claim's connection is ended by Postgres: well beyond a batch's publish timeout. */
  const idleInClaimMs = Math.max(30_000, 3 * publishTimeoutMs);
  const backoff = options.backoff ?? { initialMs: 200, maxMs: 10_000 };
  const ownsPool = typeof options.pool === 'string';
  // An owned pool logs its idle-connection errors itself (createPgPool); a borrowed one may be a bare Pool.
  const pool =
    typeof options.pool === 'string' ? createPgPool(options.pool, { max: 3, logger }) : options.pool;
  const onPoolError = (error: Error) =>
    logger.warn('outbox relay database connection error', { err: describeDatabaseError(error) });
  if (!ownsPool) pool.on('error', onPoolError);

  const channel = connection.createChannel({
    name: 'outbox-relay',
    confirm: true,
    // The whole topology exists before the first publish: exchanges, so a fresh broker cannot close
    // the channel with a 404, and every subscriber's queue, so an event published before its
    // consumer's first start is queued for it instead of being dropped as unroutable.
    setup: (ch: Parameters<typeof declareTopology>[0]) => declareTopology(ch, Object.values(QUEUES)),
  });
  const publisher = createConfirmPublisher(channel, { window, timeoutMs: publishTimeoutMs });
  const idle = createSleeper();
  const pause = createSleeper();
  let wakePending = false;
  /** Claims in a row that found nothing but held-back rows. */
  let heldBackClaims = 0;
  const wake = () => {
    wakePending = true;
    idle.wake();
  };
  // Listening again after a lost connection means the database is back: a relay backing off from
  // it (up to `backoff.maxMs`) resumes at once instead of sleeping out the rest of its wait.
  const onListening = () => {
    wake();
    pause.wake();
  };
  const listener =
    options.listen === false
      ? undefined
      : createOutboxListener({ pool, logger, onNotify: wake, onListening });
  const removeConnectListener = connection.onConnect(() => pause.wake());
  let loop: Promise<void> | undefined;
  let stopping = false;
  let lastRelease = 0;

  interface Claimed {
    // Held (with its locks) until the confirms are in: watched, so a database that drops it meanwhile fails the batch, not the process.
    held: CheckedOutClient;
    rows: OutboxRow[];
    /** Claimed rows held back behind an earlier unpublished row of their aggregate. */
    heldBack: number;
    stopTimer: () => void;
  }

  /** Opens a transaction and claims the oldest unpublished rows no other transaction holds. */
  async function claim(): Promise<Claimed> {
    if (!connection.isConnected()) throw new BrokerUnavailableError();
    const held = await checkOutClient(pool);
    try {
      // One round trip: the claim goes behind BEGIN without waiting for its answer (the pool's
      // connections are in pipeline mode; a plain pool queues it, which is only slower).
      const [opened, claiming] = await Promise.allSettled([
        held.client.query(`BEGIN; ${claimSettings(idleInClaimMs)}`),
        held.client.query<OutboxRow & { ready: boolean }>({ ...CLAIM, values: [batchSize] }),
      ]);
      if (opened.status === 'rejected') throw opened.reason;
      if (claiming.status === 'rejected') throw claiming.reason;
      const claimed = claiming.value;
      const rows = claimed.rows.filter((row) => row.ready).map(({ ready: _ready, ...row }) => row);
      const heldBack = claimed.rows.length - rows.length;
      if (heldBack > 0) metrics.relayHeldBack.inc(heldBack);
      return { held, rows, heldBack, stopTimer: metrics.relayPublishSeconds.startTimer() };
    } catch (error) {
      await rollback(held);
      throw error;
    }
  }

  /** Marks the batch published (or records the failure), commits and releases its connection. */
  async function finish(batch: Claimed, publishError: Error | undefined): Promise<number> {
    const { held, rows } = batch;
    let outcome: { text: string; values: unknown[] } | undefined;
    if (rows.length > 0) {
      if (!publishError) batch.stopTimer();
      const ids = rows.map((row) => row.id);
      const epochs = rows.map((row) => Number(row.created_epoch));
      const during = [Math.min(...epochs), Math.max(...epochs) + 1];
      outcome = publishError
        ? { text: RECORD_FAILURE, values: [ids, ...during, publishError.message] }
        : { text: RELAY_MARK_TEXT, values: [ids, ...during] };
    }
    await commitWith(held, outcome);
    // Rows this relay held back may have waited for these (or be free now that this batch let them go).
    if (rows.length > 0 && (batch.heldBack > 0 || heldBackClaims > 0)) wake();
    if (publishError) throw publishError;
    if (rows.length > 0) {
      recordPublished(metrics, rows);
      logger.debug('outbox batch published', { count: rows.length });
    }
    return rows.length;
  }

  /**
   * Sends `statement` with the COMMIT behind it, one round trip, and releases the connection. A
   * failed statement makes Postgres answer the COMMIT with ROLLBACK: nothing of the batch is kept,
   * and the statement's error is thrown.
   */
  async function commitWith(held: CheckedOutClient, statement?: { text: string; values: unknown[] }) {
    const answers = await Promise.allSettled([
      ...(statement ? [held.client.query(statement)] : []),
      held.client.query('COMMIT'),
    ]);
    const commit = answers[answers.length - 1];
    // A COMMIT that got no answer leaves the connection in an unknown state: it is destroyed, not pooled.
    held.release(commit.status === 'rejected' ? (commit.reason as Error) : undefined);
    for (const answer of answers) if (answer.status === 'rejected') throw answer.reason;
    const tag = (commit as PromiseFulfilledResult<{ command: string }>).value.command;
    if (tag !== 'COMMIT') throw new Error(`the outbox batch's transaction ended with ${tag}, not COMMIT`);
  }

  async function rollback(held: CheckedOutClient): Promise<void> {
    let brokenClient: Error | undefined;
    try {
      await held.client.query('ROLLBACK');
    } catch (error) {
      brokenClient = error as Error;
    } finally {
      held.release(brokenClient);
    }
  }

  const publishAfter = (batch: Claimed, after?: Promise<void>) => {
    const published = publisher.publish(batch.rows, after);
    return {
      issued: published.issued,
      settled: published.confirmed.then(
        () => finish(batch, undefined),
        (error: Error) => {
          publisher.abort(error);
          return finish(batch, error);
        },
      ),
    };
  };

  async function drainOnce(): Promise<number> {
    publisher.reset();
    const batch = await claim();
    return publishAfter(batch).settled;
  }

  /**
   * Runs until stopped or a failure, with up to `pipeline` batches in flight:
   * batch N+1 is claimed (SKIP LOCKED skips N's rows, still locked) and published right behind N on
   * the same channel, so outbox order holds; each is marked and committed after its own confirms.
   * After a short batch it waits for the next NOTIFY (or the poll) without waiting for the batches
   * in flight, so a row committed while a batch awaits its confirms is claimed at once. The first
   * failure stops every later batch from publishing further; all in flight settle before it throws.
   */
  async function drainPipelined(): Promise<number> {
    publisher.reset();
    const inFlight = new Set<Promise<void>>();
    let total = 0;
    let failure: unknown;
    const fail = (error: unknown) => {
      failure ??= error;
      publisher.abort(error as Error);
      idle.wake();
    };
    let previous: Promise<void> | undefined;
    try {
      while (!stopping && failure === undefined) {
        if (inFlight.size >= pipeline) {
          await Promise.race(inFlight);
          continue;
        }
        // Due scheduled rows are looked for once a poll interval: a timer fires at most that late.
        if (Date.now() - lastRelease >= pollIntervalMs) await releaseDueOnce();
        // Every row committed before this claim starts is visible to it: a NOTIFY from now on means more.
        wakePending = false;
        const batch = await claim();
        if (batch.rows.length > 0) {
          const { issued, settled } = publishAfter(batch, previous);
          previous = issued;
          const tracked: Promise<void> = settled
            .then((count) => void (total += count), fail)
            .finally(() => inFlight.delete(tracked));
          inFlight.add(tracked);
        } else await finish(batch, undefined);
        if (batch.rows.length === 0 && batch.heldBack > 0) {
          // Everything claimed waits for an earlier row in flight: this relay's own batches wake it
          // when they commit; another relay's is looked for again soon, less often the longer it takes.
          heldBackClaims++;
          const retryMs = Math.min(
            pollIntervalMs,
            HELD_BACK_RETRY_MS * 2 ** Math.min(heldBackClaims - 1, 10),
          );
          if (!wakePending && !stopping && failure === undefined) await idle.sleep(retryMs);
          continue;
        }
        heldBackClaims = 0;
        // A full batch means more are waiting: carry on without sleeping.
        if (batch.rows.length + batch.heldBack === batchSize) continue;
        if (!wakePending && !stopping && failure === undefined) await idle.sleep(pollIntervalMs);
      }
    } catch (error) {
      fail(error);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    return total;
  }

  async function releaseDueOnce(): Promise<number> {
    lastRelease = Date.now();
    let total = 0;
    for (;;) {
      const { rowCount } = await pool.query(RELEASE_DUE, [RELEASE_CHUNK]);
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < RELEASE_CHUNK) break;
    }
    if (total > 0) {
      metrics.scheduledReleased.inc(total);
      logger.debug('scheduled events due, moved to the outbox', { count: total });
    }
    return total;
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      try {
        await drainPipelined();
        failures = 0;
      } catch (error) {
        failures++;
        const waitMs = backoffDelay(failures, backoff);
        if (isDatabaseUnavailable(error)) {
          // Rows stay unpublished (or published but unmarked, published again later): nothing is lost meanwhile.
          logger.warn('outbox relay cannot reach the database, backing off', {
            err: describeDatabaseError(error),
            attempt: failures,
            waitMs,
          });
        } else {
          const level = error instanceof BrokerUnavailableError ? 'info' : 'warn';
          logger.log(level, 'outbox relay cannot publish, backing off', {
            err: (error as Error).message,
            attempt: failures,
            waitMs,
          });
        }
        if (!stopping) await pause.sleep(waitMs);
      }
    }
  }

  return {
    drainOnce,
    releaseDueOnce,
    start: async () => {
      if (loop) return;
      stopping = false;
      await listener?.start();
      loop = run();
      logger.info('outbox relay started', { batchSize, window, pipeline, pollIntervalMs });
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
