import { QUEUES, ROUTES } from '@shop/contracts';
import { ensurePartitions, listPartitions, type PartitionedTable } from '@shop/platform';
import type { Pool } from 'pg';
import { bar, step } from '../progress';
import type { BenchSystem } from '../system';

/** Days of history, so that retention has whole past days' partitions to drop. */
export const HISTORY_DAYS = 10;

/** One partitioned table the history phase fills: which service's database, and its share of the rows. */
export interface HistoryTable {
  database: 'orders' | 'products' | 'notifications';
  table: PartitionedTable;
  /** The inbox's consumer, as the service names it (its queue). */
  consumer?: string;
  share: number;
}

/**
 * Shared as one order's rows are in real life: one OrderCreated in the order service's outbox, one
 * inbox row in the product service (the OrderCreated) and two in the notification service (the
 * OrderCreated and the StockReserved).
 */
export const HISTORY_TABLES: readonly HistoryTable[] = [
  { database: 'orders', table: 'outbox_events', share: 0.25 },
  { database: 'products', table: 'processed_messages', consumer: QUEUES.productOrders.name, share: 0.25 },
  {
    database: 'notifications',
    table: 'processed_messages',
    consumer: QUEUES.notificationEvents.name,
    share: 0.5,
  },
];

export const label = (target: HistoryTable) => `${target.database}.${target.table}`;

/** Rows per INSERT … SELECT: big enough to be fast, small enough for a progress bar and short transactions. */
const CHUNK = 250_000;

export interface FillFigures {
  rows: Record<string, number>;
  /** The history spans [from, to). */
  from: string;
  to: string;
  /** Wall time of the INSERTs (the three databases filled side by side). */
  insertSeconds: number;
  /** Wall time of the VACUUM ANALYZE that follows, as autovacuum would do (it is off on this machine). */
  vacuumSeconds: number;
  /** Wall time of the CHECKPOINT that writes the fill out before anything is measured. */
  checkpointSeconds: number;
}

/**
 * Fills each table with its share of `total` rows spread evenly from UTC midnight HISTORY_DAYS
 * days ago until a minute ago, creating the past days' partitions first (ensurePartitions). Outbox
 * rows are published OrderCreated envelopes like the relay leaves them; inbox rows are events taken
 * in, under the service's own consumer name. The three databases are filled side by side.
 */
export async function fillHistory(
  system: BenchSystem,
  total: number,
  template: Record<string, unknown>,
): Promise<FillFigures> {
  const now = Date.now();
  const from = new Date(Date.UTC(...utcDate(now - HISTORY_DAYS * 86_400_000)));
  const to = new Date(now - 60_000);
  const rows = Object.fromEntries(
    HISTORY_TABLES.map((target) => [label(target), Math.round(total * target.share)]),
  );
  step(
    `history: ${total} rows from ${from.toISOString()} to ${to.toISOString()} (${Object.entries(rows)
      .map(([name, count]) => `${name} ${count}`)
      .join(', ')})`,
  );
  const progress = bar('history rows', total);
  let written = 0;
  const started = performance.now();
  await Promise.all(
    HISTORY_TABLES.map(async (target) => {
      const pool = system.db[target.database];
      await ensurePartitions(pool, target.table, { from, to });
      const count = rows[label(target)];
      const secondsPerRow = (to.getTime() - from.getTime()) / 1000 / Math.max(1, count);
      for (let first = 1; first <= count; first += CHUNK) {
        const last = Math.min(count, first + CHUNK - 1);
        await insertRows(pool, target, template, {
          first,
          last,
          fromEpoch: from.getTime() / 1000,
          secondsPerRow,
        });
        written += last - first + 1;
        progress.update(written);
      }
    }),
  );
  progress.stop();
  const insertSeconds = (performance.now() - started) / 1000;
  step(
    `  inserted in ${insertSeconds.toFixed(1)} s (${(total / insertSeconds).toFixed(0)} rows/s); VACUUM ANALYZE`,
  );
  const vacuumStarted = performance.now();
  await Promise.all(
    HISTORY_TABLES.map((target) => system.db[target.database].query(`VACUUM ANALYZE ${target.table}`)),
  );
  const vacuumSeconds = (performance.now() - vacuumStarted) / 1000;
  step(`  vacuumed in ${vacuumSeconds.toFixed(1)} s; CHECKPOINT`);
  // History is written over years, not just before the measuring starts: without this, the phases
  // that follow ran while Postgres and the kernel wrote out gigabytes of fill (decision 39).
  const checkpointStarted = performance.now();
  await system.db.orders.query('CHECKPOINT');
  const checkpointSeconds = (performance.now() - checkpointStarted) / 1000;
  step(`  checkpointed in ${checkpointSeconds.toFixed(1)} s`);
  return {
    rows,
    from: from.toISOString(),
    to: to.toISOString(),
    insertSeconds,
    vacuumSeconds,
    checkpointSeconds,
  };
}

const utcDate = (ms: number): [number, number, number] => {
  const at = new Date(ms);
  return [at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()];
};

/** Rows first…last of the table's history: row g at fromEpoch + (g − ½) × secondsPerRow. */
async function insertRows(
  pool: Pool,
  target: HistoryTable,
  template: Record<string, unknown>,
  span: { first: number; last: number; fromEpoch: number; secondsPerRow: number },
): Promise<void> {
  const times = `FROM (SELECT g, to_timestamp($1::float8 + (g - 0.5) * $2::float8) AS t
                        FROM generate_series($3::bigint, $4::bigint) AS g) AS s`;
  const bounds = [span.fromEpoch, span.secondsPerRow, span.first, span.last];
  if (target.table === 'outbox_events') {
    const route = ROUTES.OrderCreated;
    await pool.query(
      `INSERT INTO outbox_events (id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, created_at, published_at)
       SELECT u, 'order', g::text, 0, 'OrderCreated', $6, $7, jsonb_set($5::jsonb, '{id}', to_jsonb(u::text)), t, t + interval '5 ms'
         FROM (SELECT gen_random_uuid() AS u, g, t ${times}) AS r`,
      [...bounds, JSON.stringify(template), route.exchange, route.routingKey],
    );
  } else {
    await pool.query(
      `INSERT INTO processed_messages (consumer, event_id, processed_at)
       SELECT $5, gen_random_uuid(), t ${times}`,
      [...bounds, target.consumer],
    );
  }
}

export interface TableSize {
  table: string;
  partitions: number;
  /** pg_total_relation_size summed over the partitions (table, indexes, TOAST). */
  bytes: number;
  /** reltuples summed over the partitions (an estimate; exact right after VACUUM ANALYZE). */
  rowsEstimate: number;
}

export async function tableSizes(system: BenchSystem): Promise<TableSize[]> {
  return Promise.all(
    HISTORY_TABLES.map(async (target) => {
      const partitions = await listPartitions(system.db[target.database], target.table);
      return {
        table: label(target),
        partitions: partitions.length,
        bytes: partitions.reduce((sum, partition) => sum + partition.bytes, 0),
        rowsEstimate: partitions.reduce((sum, partition) => sum + Math.max(0, partition.rowsEstimate), 0),
      };
    }),
  );
}

/** n_dead_tup summed over the table's live partitions: those whose range has not ended yet (today's and ahead). */
export async function liveDeadTuples(pool: Pool, table: PartitionedTable): Promise<number> {
  const live = (await listPartitions(pool, table))
    .filter((partition) => partition.to.getTime() > Date.now())
    .map((partition) => partition.name);
  const { rows } = await pool.query<{ dead: string | null }>(
    'SELECT sum(n_dead_tup) AS dead FROM pg_stat_user_tables WHERE relname = ANY($1)',
    [live],
  );
  return Number(rows[0].dead ?? 0);
}
