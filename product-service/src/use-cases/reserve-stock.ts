import type { HandlerOutcome } from '@shop/platform';
import type { Pool } from '../db/pool';
import { reserveInTransaction } from '../db/stock-repository';
import { consolidateLines, decideReservation, type StockLine } from '../domain/reserve-stock';
import { inventoryEvent, type SagaCause } from './saga-cause';

/**
 * Stock saga, step 1 (SPEC §6): reserve an order's stock when it is created — all lines or none.
 * One transaction holds the inbox row, the stock change, the reservation row and the outbox event,
 * so a redelivery finds the inbox row and changes nothing. A tombstone (the cancel came first)
 * or an existing reservation means there is nothing left to decide. The common case — every line
 * covered — is one statement; a shortfall is decided by `decideReservation` on the locked stock.
 */
export async function reserveStock(pool: Pool, order: { orderId: number; items: StockLine[] }, cause: SagaCause): Promise<HandlerOutcome> {
  const lines = consolidateLines(order.items);
  const reservedEvent = inventoryEvent(cause, { type: 'StockReserved', orderId: order.orderId, sequence: 1, data: { order_id: order.orderId, items: lines } });
  return reserveInTransaction(
    pool,
    { consumer: cause.consumer, eventId: cause.eventId, orderId: order.orderId, lines, reservedEvent },
    (outcome) => {
      if (outcome.kind === 'duplicate') return { result: 'duplicate' };
      if (outcome.kind === 'exists') return { result: 'ignored' };
      if (outcome.kind === 'reserved') return { result: 'applied' };
      const decision = decideReservation(lines, outcome.stock);
      if (decision.kind !== 'reject') return { result: 'applied' };
      const rejectedEvent = inventoryEvent(cause, {
        type: 'StockReservationFailed',
        orderId: order.orderId,
        sequence: 1,
        data: { order_id: order.orderId, reason: decision.reason, shortages: decision.shortages },
      });
      return { result: 'applied', rejectedEvent };
    },
  );
}
