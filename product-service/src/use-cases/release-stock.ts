import type { HandlerOutcome } from '@shop/platform';
import type { Pool } from '../db/pool';
import { releaseInTransaction } from '../db/stock-repository';
import { inventoryEvent, type SagaCause } from './saga-cause';

/**
 * Stock saga, compensation (SPEC §6): a cancelled order gives its reserved stock back, exactly
 * once — the reservation moves 'reserved' → 'released' in the same transaction as the stock and
 * the StockReleased event, so a second cancel finds nothing to release. A cancel that overtakes
 * its create leaves the tombstone 'cancelled_before_create', and the late create reserves nothing.
 */
export async function releaseStock(pool: Pool, orderId: number, cause: SagaCause): Promise<HandlerOutcome> {
  return releaseInTransaction(pool, { consumer: cause.consumer, eventId: cause.eventId, orderId }, (found) => {
    if (found.duplicate) return { result: 'duplicate' };
    if (found.status === null) return { result: 'applied' }; // the tombstone was left
    if (found.status !== 'reserved') return { result: 'ignored' };
    const releasedEvent = inventoryEvent(cause, { type: 'StockReleased', orderId, sequence: 2, data: { order_id: orderId, items: found.items } });
    return { result: 'applied', releasedEvent };
  });
}
