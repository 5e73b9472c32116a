import { QUEUES, type AnyEvent, type EventType } from '@shop/contracts';
import { createDatabase, createLogger, createPgPool, oneStatement, placeOf } from '@shop/platform';
import {
  createNotificationRepository,
  notificationHandlers,
  notificationOf,
  notificationOrderLock,
  notificationWrites,
  usersOfOrderQuery,
  type NotificationDb,
} from '@shop/notification-service';
import type { PoolClient } from 'pg';
import { sleep, type Percentiles } from '../stats';
import { eachInFlight, inboxTransaction } from './inbox-transaction';

/**
 * Raw baseline of the notification service's catch-up (phase 4): the events it is sent, in the
 * order its queue holds them, recorded as raw `pg` transactions fed from memory, one transaction per
 * event, `concurrency` in flight (the service's prefetch). Each sends the service's own statements,
 * built by its own code (`@shop/notification-service`'s exports, platform's `claimStatement`,
 * `transactionOpening` and `oneStatement`), in its two round trips (see `inboxTransaction`):
 *   BEGIN; SELECT pg_advisory_xact_lock(4004, order); SELECT … FROM shop_inbox_claim(…)
 *   + SELECT user_id FROM notifications WHERE order_id = $1 ORDER BY id
 *   WITH write_0 AS (INSERT INTO notifications … RETURNING *) SELECT * FROM write_0 + COMMIT
 *   (with the back-fill of the order's user as another CTE when the event calls for it)
 * An event whose cause has not committed yet (its claim says it came early) is rolled back and
 * tried again, as the service's consumer does; `early` counts those tries.
 */
export async function runNotificationInsertBaseline(
  databaseUrl: string,
  bodies: readonly string[],
  concurrency: number,
): Promise<{ eventsPerSecond: number; latency: Percentiles; early: number }> {
  const logger = createLogger('bench-baseline', 'warn');
  const pool = createPgPool(databaseUrl, { max: concurrency, logger });
  const db: NotificationDb = createDatabase(pool);
  const handled = new Set(Object.keys(notificationHandlers(createNotificationRepository(db))) as EventType[]);
  let early = 0;

  async function record(client: PoolClient, body: string): Promise<void> {
    const event = JSON.parse(body) as AnyEvent;
    const input = notificationOf(event);
    const claim = {
      consumer: QUEUES.notificationEvents.name,
      eventId: event.id,
      place: placeOf(event, handled),
    };
    for (;;) {
      const outcome = await inboxTransaction(
        client,
        {
          lock: notificationOrderLock(input.orderId),
          claim,
          load: usersOfOrderQuery(db, input.orderId).compile(),
        },
        (recorded) => {
          const { writes, insert } = notificationWrites(db, event.id, input, recorded);
          return [oneStatement(db, writes, insert)!.compile()];
        },
      );
      if (outcome === 'applied') return;
      if (outcome !== 'early') throw new Error(`baseline notification of event ${event.id}: ${outcome}`);
      early++;
      await sleep(1);
    }
  }

  try {
    const { seconds, latency } = await eachInFlight(pool, bodies, concurrency, record);
    return { eventsPerSecond: bodies.length / seconds, latency, early };
  } finally {
    await pool.end();
  }
}
