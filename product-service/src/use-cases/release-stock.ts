import type { HandlerOutcome } from '@shop/platform';
import type { Pool } from '../db/pool';
import { releaseInTransaction } from '../db/stock-repository';
import { inventoryEvent, type SagaCause } from './saga-cause';

/**
 * Stock saga, compensation (SPEC §6): a cancelled order that had not shipped gives its reserved
 * stock back (the handler asks `stockEffectOfStatusChange`; a shipped one's goods have left), exactly
 * once — the reservation moves 'reserved' → 'released' in the same transaction as the stock and
 * the StockReleased event, so a second cancel finds nothing to release. A cancel that overtakes
 * its create leaves the tombstone 'cancelled_before_create', and the late create reserves nothing.
 * All of it is one statement; the event's items are the reservation's, filled in by that statement.
 */
export async function releaseStock(pool: Pool, orderId: number, cause: SagaCause): Promise<HandlerOutcome> {
  const releasedEvent = inventoryEvent(cause, { type: 'StockReleased', orderId, sequence: 2, data: { order_id: orderId, items: [] } });
  const result = await releaseInTransaction(pool, { consumer: cause.consumer, eventId: cause.eventId, orderId, releasedEvent });
  if (result === 'duplicate') return 'duplicate';
  return result === 'not_reserved' ? 'ignored' : 'applied';
}
