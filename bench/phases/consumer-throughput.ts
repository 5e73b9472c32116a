import { QUEUES } from '@shop/contracts';
import { CONSUMER_TRANSACTIONS } from '@shop/notification-service';
import { buildEvent, declareTopology } from '@shop/platform';
import { runNotificationInsertBaseline } from '../baselines/notification-inserts';
import { runReserveStockBaseline } from '../baselines/reserve-stock';
import { connectBroker } from '../broker';
import { amqpUrl, BASELINE_VHOST, createVhost, databaseUrl, dropVhost, type BenchBroker } from '../infra';
import { CorrectnessError } from '../correctness';
import { randomOrder, randomUser } from '../order-mix';
import { bar, step } from '../progress';
import type { BenchSettings } from '../settings';
import { ratio } from '../stats';
import type { BenchSystem } from '../system';
import { waitUntil } from '../wait';

/** Phase-4 orders exist only as events: their ids start here, far above any real order's. */
export const SYNTHETIC_ORDER_BASE = 1_000_000_000;
/** The product service's consumer prefetch (createConsumer's default), which bounds its transactions in flight. */
export const CONSUMER_PREFETCH = 10;
/**
 * The notification service's consumer transactions at once (its pool's share for events): how many
 * raw transactions its baseline keeps in flight. (Its prefetch, 100, is more: the events that
 * arrive together share a transaction.)
 */
export const NOTIFICATION_TRANSACTIONS: number = CONSUMER_TRANSACTIONS;

export interface ConsumerThroughput {
  events: number;
  /** The synthetic orders' ids: firstOrderId … firstOrderId + events − 1. */
  firstOrderId: number;
  /**
   * The product service draining the N OrderCreated, its relay publishing as it goes: from the first
   * reservation's transaction start (its created_at) to the poll that found the last one committed
   * (the service's start-up excluded).
   */
  eventsPerSecond: number;
  /** From starting the product service to the last reservation (includes start-up). */
  wallSeconds: number;
  /**
   * The same reservations as raw `pg` transactions sending the service's own statements
   * (baselines/reserve-stock.ts), `concurrency` in flight, the product service's relay running
   * alongside as in the service: from the first transaction's start to the last commit.
   */
  baseline: { eventsPerSecond: number; concurrency: number };
  /** eventsPerSecond ÷ baseline. */
  ratio: number;
  /**
   * The notification service, restarted after the drain, catching up on the 2 × N events queued
   * for it (N OrderCreated, N StockReserved): 2 × N ÷ the time from its first notification row's
   * created_at (its transaction's start) to its last's.
   */
  notificationEventsPerSecond: number;
  /**
   * The same 2 × N events, in the queue's order, as raw `pg` transactions sending the notification
   * service's own statements (baselines/notification-inserts.ts), `concurrency` in flight (the
   * consumer's transactions at once; the service batches, the baseline does not): from the first transaction's start to the last commit. `early`: tries rolled
   * back because the event's cause had not committed yet.
   */
  notificationBaseline: { eventsPerSecond: number; concurrency: number; early: number };
  /** notificationEventsPerSecond ÷ notificationBaseline. */
  notificationRatio: number;
}

/**
 * Phase 4: with the product service stopped (and the notification service, so that it does not
 * compete for the CPU while the product service drains), N OrderCreated envelopes (built with the platform's
 * builder) go straight into `product-service.orders` (and `notification-service.events`, for after
 * the drain); then the service starts and the clock runs until every one has its reservation row.
 * Once its relay has published every StockReserved, the baseline runs the same reservations as raw
 * `pg` transactions, with a relay of its own publishing to a vhost of its own. Then the notification
 * service starts and catches up on the 2 × N events; its baseline records the same events as raw
 * `pg` transactions. Both baselines send the services' own statements (see baselines/).
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
  const firstMs = Number(rows[0].first_ms);
  const eventsPerSecond = count / ((done.nowMs - firstMs) / 1000);
  step(`  product service: ${eventsPerSecond.toFixed(0)} events/s`);

  // The relay's tail must not overlap the baseline; and what it published is what the notification
  // service is sent, which its baseline records.
  const inventoryBodies = await publishedInventoryEvents(system, range, firstMs, settings.settleTimeoutMs);

  step(
    `baseline: the same reservations as raw pg transactions, ${CONSUMER_PREFETCH} in flight, ` +
      `a relay publishing to vhost ${BASELINE_VHOST}`,
  );
  await createVhost(BASELINE_VHOST);
  const baseline = await runReserveStockBaseline(
    databaseUrl('baselineProducts'),
    amqpUrl(BASELINE_VHOST),
    bodies,
    CONSUMER_PREFETCH,
    settings.settleTimeoutMs,
  ).finally(() => dropVhost(BASELINE_VHOST));
  if (baseline.relayPublished < count)
    throw new CorrectnessError(
      `the baseline's relay published ${baseline.relayPublished} of ${count} events`,
    );
  step(`  raw: ${baseline.eventsPerSecond.toFixed(0)} events/s`);

  step(`restarting the notification service; it catches up with ${2 * count} events`);
  await system.start('notification-service');
  const notificationEventsPerSecond = await notificationCatchUp(system, range, settings.settleTimeoutMs);
  step(`  notification service: ${notificationEventsPerSecond.toFixed(0)} events/s`);
  step(
    `baseline: the same ${2 * count} notifications as raw pg transactions, ${NOTIFICATION_TRANSACTIONS} in flight`,
  );
  const notificationBaseline = await runNotificationInsertBaseline(
    databaseUrl('baselineNotifications'),
    [...bodies, ...inventoryBodies],
    NOTIFICATION_TRANSACTIONS,
  );
  step(`  raw: ${notificationBaseline.eventsPerSecond.toFixed(0)} events/s`);
  return {
    events: count,
    firstOrderId,
    eventsPerSecond,
    wallSeconds: (done.nowMs - startedAt) / 1000,
    baseline: { eventsPerSecond: baseline.eventsPerSecond, concurrency: CONSUMER_PREFETCH },
    ratio: ratio(eventsPerSecond, baseline.eventsPerSecond),
    notificationEventsPerSecond,
    notificationBaseline: {
      eventsPerSecond: notificationBaseline.eventsPerSecond,
      concurrency: NOTIFICATION_TRANSACTIONS,
      early: notificationBaseline.early,
    },
    notificationRatio: ratio(notificationEventsPerSecond, notificationBaseline.eventsPerSecond),
  };
}

/**
 * Waits until the product service's relay has published every event of the orders in `range`, and
 * returns them as published (the outbox's payload text, in the order the relay published them).
 */
async function publishedInventoryEvents(
  system: BenchSystem,
  range: number[],
  firstMs: number,
  timeoutMs: number,
): Promise<string[]> {
  const orderIds = Array.from({ length: range[1] - range[0] }, (_, index) => String(range[0] + index));
  // The events' rows were written from the first reservation on: the bound keeps the scan to today's partitions.
  const since = new Date(firstMs - 60_000);
  const select = (what: string, where = '') =>
    system.db.products.query(
      `SELECT ${what} FROM outbox_events
        WHERE created_at >= $1 AND aggregate_type = 'stock_reservation' AND aggregate_id = ANY($2::text[]) ${where}`,
      [since, orderIds],
    );
  step("waiting for the product service's relay to publish every StockReserved");
  await waitUntil(
    "the product service's relay published the phase's events",
    async () => Number((await select('count(*) AS n', 'AND published_at IS NULL')).rows[0].n),
    (left) => left === 0,
    timeoutMs,
    100,
  );
  const { rows } = await select('payload::text AS body', 'ORDER BY position');
  if (rows.length !== orderIds.length)
    throw new CorrectnessError(
      `${rows.length} inventory events in the outbox for ${orderIds.length} synthetic orders`,
    );
  return rows.map((row: { body: string }) => row.body);
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
