import { claimInbox, inTransaction, type HandlerOutcome } from '@shop/platform';
import type { Db } from '../db/database';
import {
  insertReservation,
  loadReservation,
  lockProducts,
  orderLock,
  updateReservationStatus,
  writeStockLevels,
} from '../db/reservation-store';
import { decideRelease, stockAfterRelease } from '../domain/stock-on-status-change';
import { appendInventoryEvent, type SagaCause } from './saga-cause';

/**
 * Stock saga, compensation (SPEC §6): a cancelled order that had not shipped gives its reserved
 * stock back exactly once — the reservation moves 'reserved' → 'released' in the same transaction
 * as the stock, the inbox row and the StockReleased event, so a second cancel finds nothing to
 * release. A cancel that overtakes its create leaves the tombstone 'cancelled_before_create', and
 * the late create (serialised behind it by the order's lock) reserves nothing.
 */
export async function releaseStock(db: Db, orderId: number, cause: SagaCause): Promise<HandlerOutcome> {
  return inTransaction(
    db,
    async (tx) => {
      if (!(await claimInbox(tx, cause.consumer, cause.eventId))) return 'duplicate';
      const decision = decideRelease(await loadReservation(tx, orderId));

      if (decision.kind === 'none') return 'ignored';
      if (decision.kind === 'tombstone') {
        await insertReservation(tx, orderId, { status: 'cancelled_before_create', items: [] });
        return 'applied';
      }

      const stock = await lockProducts(
        tx,
        decision.lines.map((line) => line.product_id),
      );
      await writeStockLevels(tx, stockAfterRelease(decision.lines, stock));
      await updateReservationStatus(tx, orderId, 'released');
      await appendInventoryEvent(tx, cause, {
        type: 'StockReleased',
        orderId,
        sequence: 2,
        data: { order_id: orderId, items: decision.lines },
      });
      return 'applied';
    },
    { advisoryLock: orderLock(orderId) },
  );
}
