import { appendToOutbox, recordInboxOnce, type HandlerOutcome } from '@shop/platform';
import type { Db } from '../db/prisma';
import { adjustStock, findReservation, inOrderTransaction, insertReservation, lockStock } from '../db/stock-repository';
import { consolidateLines, decideReservation, type StockLine } from '../domain/reserve-stock';
import { AGGREGATE_TYPE, inventoryEvent, type SagaCause } from './saga-cause';

/**
 * Stock saga, step 1 (SPEC §6): reserve an order's stock when it is created — all lines or none.
 * One transaction holds the inbox row, the stock change, the reservation row and the outbox event,
 * so a redelivery finds the inbox row and changes nothing. A tombstone (the cancel came first)
 * or an existing reservation means there is nothing left to decide.
 */
export async function reserveStock(db: Db, order: { orderId: number; items: StockLine[] }, cause: SagaCause): Promise<HandlerOutcome> {
  return inOrderTransaction(db, order.orderId, async (tx) => {
    if (!(await recordInboxOnce(tx, cause.consumer, cause.eventId))) return 'duplicate';
    if (await findReservation(tx, order.orderId)) return 'ignored';

    const lines = consolidateLines(order.items);
    const stock = await lockStock(tx, lines.map((line) => line.product_id));
    const decision = decideReservation(lines, stock);
    if (decision.kind === 'reserve') {
      await adjustStock(tx, decision.lines, -1);
      await insertReservation(tx, { orderId: order.orderId, status: 'reserved', items: decision.lines });
      const event = inventoryEvent(cause, { type: 'StockReserved', orderId: order.orderId, sequence: 1, data: { order_id: order.orderId, items: decision.lines } });
      await appendToOutbox(tx, [event], { aggregateType: AGGREGATE_TYPE });
    } else {
      await insertReservation(tx, { orderId: order.orderId, status: 'rejected', items: lines });
      const event = inventoryEvent(cause, {
        type: 'StockReservationFailed',
        orderId: order.orderId,
        sequence: 1,
        data: { order_id: order.orderId, reason: decision.reason, shortages: decision.shortages },
      });
      await appendToOutbox(tx, [event], { aggregateType: AGGREGATE_TYPE });
    }
    return 'applied';
  });
}
