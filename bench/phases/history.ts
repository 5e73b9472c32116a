import { fillHistory, tableSizes, type FillFigures, type TableSize } from '../history/tables';
import { timeRetention, type RetentionRun } from '../history/retention';
import type { ResourceSampler } from '../resources';
import { step } from '../progress';
import type { BenchSettings } from '../settings';
import { ratio } from '../stats';
import type { BenchSystem } from '../system';
import { waitUntil } from '../wait';
import { consumerThroughput, SYNTHETIC_ORDER_BASE, type ConsumerThroughput } from './consumer-throughput';
import { orderPlacement, type OrderPlacement } from './order-placement';
import { envelopeTemplate, relayDrain, type RelayDrain } from './relay-drain';

/** POST /orders is measured again at these concurrencies (those of them the run has). */
const HISTORY_CONCURRENCIES = [1, 8];
/** The history run's synthetic orders come after phase 4's. */
export const HISTORY_ORDER_BASE = SYNTHETIC_ORDER_BASE + 100_000_000;

/** One figure with history against the same phase's figure on empty tables, same run. */
export interface Comparison {
  measure: string;
  empty: number;
  history: number;
  /** history ÷ empty: 1 means history costs nothing (target ≥ 0.9). */
  ratio: number;
}

export interface History {
  rows: number;
  fill: FillFigures;
  /** The phase functions' own figures, measured with the history in place. */
  placement: OrderPlacement;
  relayDrain: RelayDrain;
  consumer: ConsumerThroughput;
  comparisons: Comparison[];
  retention: RetentionRun[];
  sizes: { beforeFill: TableSize[]; afterFill: TableSize[]; afterRetention: TableSize[] };
}

/** The figures of phases 1, 3 and 4 of the same run, on tables without history. */
export interface EmptyTables {
  placement: OrderPlacement;
  relayDrain: RelayDrain;
  consumer: ConsumerThroughput;
}

/**
 * Phase 5: fills the order service's outbox and the product and notification services' inboxes
 * with `settings.historyRows` rows over the past days (history/tables.ts), runs the phase
 * functions of phases 1 (POST /orders at 1 and 8 connections, phase 1's raw figures reused), 3
 * (relay drain) and 4 (consumer throughput) again, and compares each with its figure on empty
 * tables. Then it times retention dropping the oldest day (history/retention.ts). Table sizes
 * before the fill, after it and after retention.
 */
export async function historyPhase(
  system: BenchSystem,
  settings: BenchSettings,
  sampler: ResourceSampler,
  empty: EmptyTables,
): Promise<History> {
  const beforeFill = await tableSizes(system);
  const fill = await fillHistory(system, settings.historyRows, envelopeTemplate());
  const afterFill = await tableSizes(system);

  step('history: POST /orders again (the order service restarts; phase 1 raw figures reused)');
  if (!system.isRunning('order-service')) await system.start('order-service');
  const concurrencies = settings.concurrencies.filter((level) => HISTORY_CONCURRENCIES.includes(level));
  const placement = await orderPlacement(system, { ...settings, concurrencies }, sampler, empty.placement);

  step('history: relay drain again');
  const drain = await relayDrain(system, settings, sampler);

  step('history: consumer throughput again');
  const consumer = await consumerThroughput(system, settings, HISTORY_ORDER_BASE);

  // The order service stays stopped, as after phase 4 (catching up on both runs' StockReserved
  // took minutes on a busy box): retention wants the three databases quiet, not the whole system.
  step("history: waiting for the product service's relay, then retention drops the oldest day");
  await waitUntil(
    "the product service's outbox published",
    async () =>
      Number(
        (await system.db.products.query('SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL'))
          .rows[0].n,
      ),
    (left) => left === 0,
    settings.settleTimeoutMs,
    100,
  );
  const retention = await timeRetention(system);
  const afterRetention = await tableSizes(system);

  const comparisons = compare(empty, { placement, relayDrain: drain, consumer });
  for (const c of comparisons)
    step(
      `  ${c.measure}: ${c.history.toFixed(0)} with history vs ${c.empty.toFixed(0)} empty → ${c.ratio.toFixed(2)}×`,
    );
  return {
    rows: settings.historyRows,
    fill,
    placement,
    relayDrain: drain,
    consumer,
    comparisons,
    retention,
    sizes: { beforeFill, afterFill, afterRetention },
  };
}

function compare(empty: EmptyTables, history: EmptyTables): Comparison[] {
  const pair = (measure: string, before: number, after: number): Comparison => ({
    measure,
    empty: before,
    history: after,
    ratio: ratio(after, before),
  });
  const comparisons = history.placement.levels.map((level) =>
    pair(
      `POST /orders, ${level.concurrency} conn, 201 answers/s`,
      empty.placement.levels.find((emptyLevel) => emptyLevel.concurrency === level.concurrency)?.shop
        .ordersPerSecond ?? NaN,
      level.shop.ordersPerSecond,
    ),
  );
  history.relayDrain.runs.forEach((run, index) =>
    comparisons.push(
      pair(
        `relay drain, ${run.relays} relay${run.relays > 1 ? 's' : ''}, msgs/s`,
        empty.relayDrain.runs[index]?.messagesPerSecond ?? NaN,
        run.messagesPerSecond,
      ),
    ),
  );
  comparisons.push(
    pair('product consumer, events/s', empty.consumer.eventsPerSecond, history.consumer.eventsPerSecond),
    pair(
      'notification service catching up, events/s',
      empty.consumer.notificationEventsPerSecond,
      history.consumer.notificationEventsPerSecond,
    ),
  );
  return comparisons;
}
