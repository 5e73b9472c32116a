import { QUEUES } from '@shop/contracts';
import { buildEvent, declareTopology } from '@shop/platform';
import { runReserveStockBaseline } from '../baselines/reserve-stock';
import { connectBroker } from '../broker';
import { databaseUrl, type BenchBroker } from '../infra';
import { CorrectnessError } from '../correctness';
import { randomOrder, randomUser } from '../order-mix';
import { bar, step } from '../progress';
import type { BenchSettings } from '../settings';
import { ratio } from '../stats';
import type { BenchSystem } from '../system';
import { waitUntil } from '../wait';

/** Phase-4 orders exist only as events: their ids start here, far above any real order's. */
export const SYNTHETIC_ORDER_BASE = 1_000_000_000;
/** The product service's consumer prefetch, which bounds its transactions in flight. */
export const CONSUMER_PREFETCH = 10;

export interface ConsumerThroughput {
  events: number;
  /** The synthetic orders' ids: firstOrderId … firstOrderId + events − 1. */
  firstOrderId: number;
  /** From the first reservation's commit to the last (the service's start-up excluded). */
  eventsPerSecond: number;
  /** From starting the product service to the last reservation (includes start-up). */
  wallSeconds: number;
  baseline: { eventsPerSecond: number; concurrency: number };
  ratio: number;
  /**
   * The notification service, restarted after the drain, catching up on the 2 × N events queued
   * for it (N OrderCreated, N StockReserved): from its first notification row's commit to its last.
   * No raw baseline.
   */
  notificationEventsPerSecond: number;
}

/**
 * Phase 4: with the product service stopped (and the notification service, so that it does not
 * compete for the CPU while the product service drains), N OrderCreated envelopes (built with the platform's
 * builder) go straight into `product-service.orders` (and `notification-service.events`, for after
 * the drain); then the service starts and the clock runs until every one has its reservation row.
 * Baseline: the same transactions with raw `pg`.
 */
export async function consumerThroughput(
  system: BenchSystem,
  settings: BenchSettings,
  // A second run in the same system (the history phase) needs orders of its own.
  firstOrderId = SYNTHETIC_ORDER_BASE,
): Promise<ConsumerThroughput> {
  const count = settings.consumerEvents;
  const range = [firstOrderId, firstOrderId + count];
  const bodies = Array.from({ length: count }, (_, index) =>
    JSON.stringify(orderCreated(system, firstOrderId + index)),
  );

  // The notification service would spend the same two cores on the StockReserved events the
  // product service emits; it is stopped so the drain measures the product service (and its relay).
  step('stopping the product and notification services to pre-load the queue');
  await Promise.all([system.stop('product-service'), system.stop('notification-service')]);
  await preload(system.broker, bodies);

  step(`consumer throughput: product service drains ${count} OrderCreated`);
  const startedAt = Date.now();
  await system.start('product-service');
  const progress = bar('reservations', count);
  const done = await waitUntil(
    'every synthetic order reserved',
    async () => {
      const { rows } = await system.db.products.query<{ n: string; now_ms: string }>(
        `SELECT count(*) AS n, extract(epoch FROM clock_timestamp()) * 1000 AS now_ms
           FROM stock_reservations WHERE order_id >= $1 AND order_id < $2`,
        range,
      );
      progress.update(Number(rows[0].n));
      return { n: Number(rows[0].n), nowMs: Number(rows[0].now_ms) };
    },
    (state) => state.n >= count,
    settings.settleTimeoutMs,
  ).finally(() => progress.stop());
  const { rows } = await system.db.products.query<{ first_ms: string }>(
    'SELECT extract(epoch FROM min(created_at)) * 1000 AS first_ms FROM stock_reservations WHERE order_id >= $1 AND order_id < $2',
    range,
  );
  const eventsPerSecond = count / ((done.nowMs - Number(rows[0].first_ms)) / 1000);
  step(`  product service: ${eventsPerSecond.toFixed(0)} events/s`);

  step(`baseline: the same reservations as raw pg transactions, ${CONSUMER_PREFETCH} in flight`);
  const baseline = await runReserveStockBaseline(databaseUrl('baselineProducts'), bodies, CONSUMER_PREFETCH);
  step(`  raw: ${baseline.eventsPerSecond.toFixed(0)} events/s`);
  step(`restarting the notification service; it catches up with ${2 * count} events`);
  await system.start('notification-service');
  const notificationEventsPerSecond = await notificationCatchUp(system, range, settings.settleTimeoutMs);
  step(`  notification service: ${notificationEventsPerSecond.toFixed(0)} events/s`);
  return {
    events: count,
    firstOrderId,
    eventsPerSecond,
    wallSeconds: (done.nowMs - startedAt) / 1000,
    baseline: { eventsPerSecond: baseline.eventsPerSecond, concurrency: CONSUMER_PREFETCH },
    ratio: ratio(eventsPerSecond, baseline.eventsPerSecond),
    notificationEventsPerSecond,
  };
}

/** Waits for a notification row per queued event of the orders in `range`; its rate from the first row to the last. */
async function notificationCatchUp(system: BenchSystem, range: number[], timeoutMs: number): Promise<number> {
  const expected = 2 * (range[1] - range[0]);
  const progress = bar('notifications', expected);
  const { rows } = await waitUntil(
    'the notification service caught up',
    async () => {
      const result = await system.db.notifications.query<{ n: string; first_ms: string; last_ms: string }>(
        `SELECT count(*) AS n, extract(epoch FROM min(created_at)) * 1000 AS first_ms,
                extract(epoch FROM max(created_at)) * 1000 AS last_ms
           FROM notifications WHERE order_id >= $1 AND order_id < $2`,
        range,
      );
      progress.update(Number(result.rows[0].n));
      return result;
    },
    (result) => Number(result.rows[0].n) >= expected,
    timeoutMs,
    100,
  )
    .catch((error: Error) => {
      throw new CorrectnessError(`notifications missing after phase 4's drain: ${error.message}`);
    })
    .finally(() => progress.stop());
  return expected / Math.max(0.001, (Number(rows[0].last_ms) - Number(rows[0].first_ms)) / 1000);
}

function orderCreated(system: BenchSystem, orderId: number) {
  const prices = new Map(system.products.map((product) => [product.id, product]));
  const items = randomOrder(system.products).map((line) => {
    const product = prices.get(line.product_id)!;
    const subtotal = ((Math.round(Number(product.price) * 100) * line.quantity) / 100).toFixed(2);
    return {
      product_id: product.id,
      product_name: product.name,
      product_price: product.price,
      quantity: line.quantity,
      subtotal,
    };
  });
  const total = items.reduce((sum, item) => sum + Math.round(Number(item.subtotal) * 100), 0);
  return buildEvent({
    type: 'OrderCreated',
    source: '/order-service',
    subject: orderId,
    sequence: 0,
    correlationId: crypto.randomUUID(),
    data: {
      order_id: orderId,
      user_id: randomUser(),
      status: 'pending',
      total_amount: (total / 100).toFixed(2),
      items,
      created_at: new Date().toISOString(),
    },
  });
}

/**
 * The queues the synthetic OrderCreated go to, straight (default exchange), so the order service
 * never sees them. The notification service gets them too: it applies an order's StockReserved only
 * after its cause, the OrderCreated (decision 33), and without them it would dead-letter every one.
 */
const PRELOADED_QUEUES = [QUEUES.productOrders, QUEUES.notificationEvents];

async function preload(broker: BenchBroker, bodies: readonly string[]): Promise<void> {
  const connection = await connectBroker(broker);
  try {
    const channel = await connection.createConfirmChannel();
    await declareTopology(channel, PRELOADED_QUEUES);
    const progress = bar('pre-loading the queue', bodies.length);
    for (let index = 0; index < bodies.length; index++) {
      const event = JSON.parse(bodies[index]) as { id: string };
      for (const queue of PRELOADED_QUEUES)
        channel.sendToQueue(queue.name, Buffer.from(bodies[index]), {
          messageId: event.id,
          type: 'OrderCreated',
          persistent: true,
          contentType: 'application/cloudevents+json',
        });
      if (index % 500 === 499) {
        await channel.waitForConfirms();
        progress.update(index + 1);
      }
    }
    await channel.waitForConfirms();
    progress.stop();
    await channel.close();
  } finally {
    await connection.close().catch(() => undefined);
  }
}
