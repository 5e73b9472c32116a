import { claimInbox, inTransaction, type HandlerOutcome } from '@shop/platform';
import type { Db } from '../db/database';
import {
  insertReservation,
  loadReservation,
  lockProducts,
  orderLock,
  writeStockLevels,
} from '../db/reservation-store';
import { consolidateLines, decideReservation, type StockLine } from '../domain/reserve-stock';
import { appendInventoryEvent, type SagaCause } from './saga-cause';

/**
 * Stock saga, step 1 (SPEC §6): reserve an order's stock when it is created — all lines or none.
 * One transaction holds the inbox row, the stock change, the reservation row and the outbox event,
 * so a redelivery finds the inbox row and changes nothing, and a failure anywhere leaves none of them.
 */
export async function reserveStock(
  db: Db,
  order: { orderId: number; items: StockLine[] },
  cause: SagaCause,
): Promise<HandlerOutcome> {
  const { orderId } = order;
  return inTransaction(
    db,
    async (tx) => {
      if (!(await claimInbox(tx, cause.consumer, cause.eventId))) return 'duplicate';
      // A reservation, a rejection, or the tombstone of a cancel that came first: this order is decided.
      if (await loadReservation(tx, orderId)) return 'ignored';

      const lines = consolidateLines(order.items);
      const stock = await lockProducts(
        tx,
        lines.map((line) => line.product_id),
      );
      const decision = decideReservation(lines, stock);

      if (decision.kind === 'reserve') {
        await writeStockLevels(tx, decision.stock);
        await insertReservation(tx, orderId, { status: 'reserved', items: decision.lines });
        await appendInventoryEvent(tx, cause, {
          type: 'StockReserved',
          orderId,
          sequence: 1,
          data: { order_id: orderId, items: decision.lines },
        });
      } else {
        await insertReservation(tx, orderId, { status: 'rejected', items: lines });
        await appendInventoryEvent(tx, cause, {
          type: 'StockReservationFailed',
          orderId,
          sequence: 1,
          data: { order_id: orderId, reason: decision.reason, shortages: decision.shortages },
        });
      }
      return 'applied';
    },
    { advisoryLock: orderLock(orderId) },
  );
}
