import type { Pool } from 'pg';
import { describeDatabaseError } from './database-connection-errors';
import type { Logger } from './logger';
import { createSleeper } from './messaging/backoff';
import type { Metrics } from './observability/metrics';
import { watchPartitions } from './observability/partition-metrics';
import { checkOutClient } from './pg';

/**
 * Daily range partitions of the outbox and the inbox log (decision 36; the DDL is
 * platform/sql/outbox-inbox.sql). Each service creates its partitions ahead of time and drops
 * whole partitions past retention: history never costs a DELETE or a dead row, and the relay reads
 * only the indexes of unpublished rows (what history still costs: performance.md, phase 5).
 */
export type PartitionedTable = 'outbox_events' | 'processed_messages';

export interface Partition {
  name: string;
  /** Inclusive lower bound; null for the partition of history a converted database starts with. */
  from: Date | null;
  /** Exclusive upper bound. */
  to: Date;
  /** Table, indexes and TOAST. */
  bytes: number;
  /** Postgres' estimate (reltuples), not a count: -1 before the first ANALYZE. */
  rowsEstimate: number;
  /** Past retention: every row's time is older than `retentionSeconds` (listPartitions' argument). */
  expired: boolean;
}

export interface RetentionResult {
  dropped: string[];
  /** Expired partitions kept, and why (an outbox row in it is still unpublished). */
  kept: { name: string; reason: string }[];
}

const LIST = `
  SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound,
         pg_total_relation_size(c.oid)::float8 AS bytes, c.reltuples::float8 AS rows_estimate,
         i.inhdetachpending AS detach_pending, now() AS now
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = $1::regclass
   ORDER BY c.relname`;

const BOUND = /FROM \((?:'([^']+)'|MINVALUE)\) TO \('([^']+)'\)/;

/** The table's partitions, oldest first, each with whether it is past `retentionSeconds`. */
export async function listPartitions(
  pool: Pick<Pool, 'query'>,
  table: PartitionedTable,
  retentionSeconds = Number.POSITIVE_INFINITY,
): Promise<(Partition & { detachPending: boolean })[]> {
  const { rows } = await pool.query<{
    name: string;
    bound: string;
    bytes: number;
    rows_estimate: number;
    detach_pending: boolean;
    now: Date;
  }>(LIST, [table]);
  return rows
    .map((row) => {
      const match = BOUND.exec(row.bound);
      if (!match)
        throw new Error(
          `partition ${row.name} of ${table} has a bound this code does not read: ${row.bound}`,
        );
      const to = new Date(match[2]!);
      return {
        name: row.name,
        from: match[1] === undefined ? null : new Date(match[1]),
        to,
        bytes: row.bytes,
        rowsEstimate: row.rows_estimate,
        expired: to.getTime() <= row.now.getTime() - retentionSeconds * 1000,
        detachPending: row.detach_pending,
      };
    })
    .sort((a, b) => a.to.getTime() - b.to.getTime());
}

/** Creates the missing daily partitions covering the UTC days from `from` to `to` (inclusive); returns how many. */
export async function ensurePartitions(
  pool: Pick<Pool, 'query'>,
  table: PartitionedTable,
  days: { from: Date; to: Date },
): Promise<number> {
  const { rows } = await pool.query<{ created: number }>(
    'SELECT shop_create_daily_partitions($1, $2::date, $3::date) AS created',
    [table, utcDay(days.from), utcDay(days.to)],
  );
  return rows[0]!.created;
}

const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Drops the partitions whose every row is older than `retentionSeconds` — except, in the outbox, one
 * that still holds an unpublished row: that row has not reached the broker yet. A partition is first
 * detached CONCURRENTLY (the services' reads and writes go on meanwhile), then dropped; one whose
 * detach was interrupted (a crash between its two transactions) is finished first.
 */
export async function dropExpiredPartitions(
  pool: Pool,
  table: PartitionedTable,
  retentionSeconds: number,
  logger?: Logger,
): Promise<RetentionResult> {
  const held = await checkOutClient(pool);
  const { client } = held;
  const result: RetentionResult = { dropped: [], kept: [] };
  let failure: Error | undefined;
  try {
    // Several instances of a service run this: one at a time per table, the others skip the round.
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
      [`shop partitions ${table}`],
    );
    if (!rows[0]!.locked) return result;
    try {
      for (const partition of await listPartitions(client, table, retentionSeconds)) {
        if (!partition.expired) continue;
        if (table === 'outbox_events' && (await holdsUnpublished(client, partition.name))) {
          result.kept.push({ name: partition.name, reason: 'holds unpublished outbox rows' });
          continue;
        }
        const detach = partition.detachPending ? 'FINALIZE' : 'CONCURRENTLY';
        await client.query(`ALTER TABLE ${table} DETACH PARTITION ${quoteIdent(partition.name)} ${detach}`);
        await client.query(`DROP TABLE ${quoteIdent(partition.name)}`);
        result.dropped.push(partition.name);
        logger?.info('retention dropped a partition', {
          table,
          partition: partition.name,
          bytes: partition.bytes,
          rowsEstimate: partition.rowsEstimate,
        });
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`shop partitions ${table}`]);
    }
    for (const kept of result.kept) {
      logger?.warn('retention kept a partition past its time', {
        table,
        partition: kept.name,
        reason: kept.reason,
      });
    }
    return result;
  } catch (error) {
    failure = error as Error;
    throw error;
  } finally {
    held.release(failure);
  }
}

// The partial index on unpublished rows answers this without reading the partition's published rows.
async function holdsUnpublished(client: Pick<Pool, 'query'>, partition: string): Promise<boolean> {
  const { rows } = await client.query<{ holds: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${quoteIdent(partition)} WHERE published_at IS NULL) AS holds`,
  );
  return rows[0]!.holds;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export interface PartitionMaintenanceOptions {
  pool: Pool;
  logger: Logger;
  /** Each table the service owns, with how long its rows are kept (seconds). */
  tables: { table: PartitionedTable; retentionSeconds: number }[];
  /** Partitions exist this many days ahead of today (UTC). Default 3: a missed day or two never stops writes. */
  daysAhead?: number;
  /** How often it runs after the first run. Default hourly. */
  everyMs?: number;
}

export interface PartitionMaintenance {
  /** Creates what is missing and drops what expired, once; a failure is logged and tried next round. */
  runOnce(): Promise<void>;
  /** Runs once now (awaited, so partitions exist before the service serves), then every `everyMs`. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What a service runs to keep its partitions: days ahead created, days past retention dropped. */
export function createPartitionMaintenance(options: PartitionMaintenanceOptions): PartitionMaintenance {
  const { pool, logger, tables } = options;
  const daysAhead = options.daysAhead ?? 3;
  const everyMs = options.everyMs ?? 3_600_000;
  const sleeper = createSleeper();
  let loop: Promise<void> | undefined;
  let stopping = false;

  async function runOnce(): Promise<void> {
    const today = new Date();
    const last = new Date(today.getTime() + daysAhead * 86_400_000);
    for (const { table, retentionSeconds } of tables) {
      try {
        const created = await ensurePartitions(pool, table, { from: today, to: last });
        if (created > 0) logger.info('partitions created ahead', { table, created, through: utcDay(last) });
        await dropExpiredPartitions(pool, table, retentionSeconds, logger);
      } catch (error) {
        logger.error('partition maintenance failed; tried again next round', {
          table,
          err: describeDatabaseError(error as Error),
        });
      }
    }
  }

  return {
    runOnce,
    async start() {
      if (loop) return;
      stopping = false;
      await runOnce();
      loop = (async () => {
        while (!stopping) {
          await sleeper.sleep(everyMs);
          if (!stopping) await runOnce();
        }
      })();
    },
    async stop() {
      stopping = true;
      sleeper.wake();
      await loop;
      loop = undefined;
    },
  };
}

/** The partitioned tables of a service and how long each keeps its rows, from its configuration. */
export function partitionedTablesOf(config: {
  INBOX_RETENTION: number;
  OUTBOX_RETENTION?: number;
}): { table: PartitionedTable; retentionSeconds: number }[] {
  return [
    ...(config.OUTBOX_RETENTION === undefined
      ? []
      : [{ table: 'outbox_events' as const, retentionSeconds: config.OUTBOX_RETENTION }]),
    { table: 'processed_messages', retentionSeconds: config.INBOX_RETENTION },
  ];
}

/**
 * What each service runs for the tables it owns: partition maintenance (its first round awaited,
 * so partitions exist before the service serves) and the partition gauges on `metrics`. Returns
 * the function that stops both.
 */
export async function keepPartitions(options: {
  service: string;
  pool: Pool;
  logger: Logger;
  metrics: Metrics;
  tables: { table: PartitionedTable; retentionSeconds: number }[];
}): Promise<() => Promise<void>> {
  const { service, pool, tables } = options;
  const maintenance = createPartitionMaintenance({
    pool,
    logger: options.logger.child({ component: 'partitions' }),
    tables,
  });
  const unwatch = watchPartitions(options.metrics, service, () =>
    Promise.all(
      tables.map(async ({ table, retentionSeconds }) => ({
        table,
        partitions: await listPartitions(pool, table, retentionSeconds),
      })),
    ),
  );
  await maintenance.start();
  return async () => {
    unwatch();
    await maintenance.stop();
  };
}
