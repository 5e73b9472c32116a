import { QUEUES, type AnyEvent } from '@shop/contracts';
import {
  createBrokerConnection,
  createDatabase,
  createLogger,
  createOutboxRelay,
  createPgPool,
  claimsStatement,
  oneStatement,
  placeOf,
  RELAY_DEFAULTS,
} from '@shop/platform';
import {
  consolidateLines,
  isLostStockRace,
  orderEventHandlers,
  orderLock,
  productsLock,
  readReservationLoad,
  reservationLoadQuery,
  reservationWrites,
  type Db,
} from '@shop/product-service';
import type { EventType } from '@shop/contracts';
import type { Percentiles } from '../stats';
import { waitUntil } from '../wait';
import { eachInFlight, inboxTransaction } from './inbox-transaction';

/** As often as the service runs a reservation that lost a race for stock before it gives up. */
const STOCK_RACE_ATTEMPTS = 5;

/**
 * Baseline of phase 4: the product service's reservation of each OrderCreated as raw `pg`
 * transactions, fed from memory instead of a queue, one transaction per event, with as many in
 * flight as the consumer's prefetch. Each sends the service's own statements, built by its own code
 * (`@shop/product-service`'s exports, platform's `claimsStatement`, `transactionOpening` and
 * `oneStatement`), in its two round trips (see `inboxTransaction`), as the service sends a step on
 * its own (a batch of one, `applyStockSteps`):
 *   BEGIN; SELECT pg_advisory_xact_lock(8001, order); SELECT … FROM (VALUES …) CROSS JOIN LATERAL shop_inbox_claim(…)
 *   + the read of the order's recorded status and its products' stock
 *   SELECT id FROM products WHERE id = ANY(…) ORDER BY id FOR UPDATE
 *   + WITH write_0 AS (UPDATE products … stock), write_1 AS (INSERT stock_reservations),
 *        write_2 AS (INSERT outbox_events StockReserved) SELECT 1 + COMMIT
 * The service takes the events that arrive together as one batch; the baseline never batches.
 * The product service's outbox relay (platform's `createOutboxRelay`, on the same pool, as in the
 * service) runs throughout and publishes every StockReserved to the broker at `amqpUrl` (a vhost of
 * the baseline's own, with the same queues), so relay activity is the same on both sides. The
 * clock stops at the last commit, as the service's does at its last reservation; then the relay
 * finishes publishing (unmeasured) before the pool closes.
 */
export async function runReserveStockBaseline(
  databaseUrl: string,
  amqpUrl: string,
  bodies: readonly string[],
  concurrency: number,
  publishTimeoutMs: number,
): Promise<{ eventsPerSecond: number; latency: Percentiles; relayPublished: number }> {
  const logger = createLogger('bench-baseline', 'warn');
  // The service's pool: the consumer's transactions, the relay's LISTEN and its batches in flight.
  const pool = createPgPool(databaseUrl, { max: concurrency + 1 + RELAY_DEFAULTS.pipeline, logger });
  const db: Db = createDatabase(pool);
  const handled = new Set(Object.keys(orderEventHandlers(db)) as EventType[]);
  const connection = createBrokerConnection({ url: amqpUrl, logger, name: 'bench-baseline-relay' });
  const relay = createOutboxRelay({ pool, connection, logger });

  async function reserve(client: Parameters<typeof inboxTransaction>[0], body: string) {
    const event = JSON.parse(body) as AnyEvent & { type: 'OrderCreated' };
    const orderId = event.data.order_id;
    const claim = { consumer: QUEUES.productOrders.name, eventId: event.id, place: placeOf(event, handled) };
    const cause = { ...claim, correlationId: event.correlationid, traceparent: event.traceparent };
    const lines = consolidateLines(event.data.items);
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await inboxTransaction(
          client,
          {
            lock: orderLock(orderId),
            claim,
            claimText: (one) => claimsStatement([one]),
            load: reservationLoadQuery(
              db,
              orderId,
              lines.map((line) => line.product_id),
            ).compile(),
          },
          (rows) => {
            const { recorded, stock } = readReservationLoad(rows);
            if (recorded) return [];
            const productIds = lines.map((line) => line.product_id);
            return [
              productsLock(db, productIds).compile(),
              oneStatement(db, reservationWrites(db, orderId, lines, stock, cause))!.compile(),
            ];
          },
        );
        if (outcome !== 'applied') throw new Error(`baseline reservation of order ${orderId}: ${outcome}`);
        return;
      } catch (error) {
        if (!isLostStockRace(error) || attempt === STOCK_RACE_ATTEMPTS) throw error;
      }
    }
  }

  try {
    await connection.waitForConnect(publishTimeoutMs);
    await relay.start();
    const { seconds, latency } = await eachInFlight(pool, bodies, concurrency, reserve);
    const published = await waitUntil(
      "the baseline's relay published every StockReserved",
      async () =>
        Number(
          (
            await pool.query<{ n: string }>(
              'SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL',
            )
          ).rows[0].n,
        ),
      (left) => left === 0,
      publishTimeoutMs,
      100,
    ).then(async () =>
      Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM outbox_events')).rows[0].n),
    );
    return {
      eventsPerSecond: bodies.length / seconds,
      latency,
      relayPublished: published,
    };
  } finally {
    await relay.stop();
    await connection.close();
    await pool.end();
  }
}
