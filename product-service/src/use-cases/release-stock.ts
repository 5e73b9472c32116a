import { appendToOutbox, recordInboxOnce, type HandlerOutcome } from '@shop/platform';
import type { Db } from '../db/prisma';
import { adjustStock, findReservation, inOrderTransaction, insertReservation, lockStock, markReservation } from '../db/stock-repository';
import { AGGREGATE_TYPE, inventoryEvent, type SagaCause } from './saga-cause';

/**
 * Stock saga, compensation (SPEC §6): a cancelled order gives its reserved stock back, exactly
 * once — the reservation moves 'reserved' → 'released' in the same transaction as the stock and
 * the StockReleased event, so a second cancel finds nothing to release. A cancel that overtakes
 * its create leaves the tombstone 'cancelled_before_create', and the late create reserves nothing.
 */
export async function releaseStock(db: Db, orderId: number, cause: SagaCause): Promise<HandlerOutcome> {
  return inOrderTransaction(db, orderId, async (tx) => {
    if (!(await recordInboxOnce(tx, cause.consumer, cause.eventId))) return 'duplicate';
    const reservation = await findReservation(tx, orderId);
    if (!reservation) {
      await insertReservation(tx, { orderId, status: 'cancelled_before_create', items: [] });
      return 'applied';
    }
    if (reservation.status !== 'reserved') return 'ignored';

    await lockStock(tx, reservation.items.map((line) => line.product_id));
    await adjustStock(tx, reservation.items, 1);
    await markReservation(tx, orderId, 'released');
    const event = inventoryEvent(cause, { type: 'StockReleased', orderId, sequence: 2, data: { order_id: orderId, items: reservation.items } });
    await appendToOutbox(tx, [event], { aggregateType: AGGREGATE_TYPE });
    return 'applied';
  });
}
