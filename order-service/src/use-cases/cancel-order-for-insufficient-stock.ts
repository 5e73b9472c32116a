import type { TypedEvent } from '@shop/contracts';
import { pgExecutor, recordInboxOnce, type HandlerOutcome } from '@shop/platform';
import { inTransaction } from '@shop/platform';
import { pgOrderWrites } from '../db/order-writer';
import type { Pool } from '../db/pg-pool';
import { isCancellable } from '../domain/order-status';
import { orderEvents } from '../messaging/order-events';

export const INSUFFICIENT_STOCK = 'insufficient_stock';

/**
 * The saga's compensation on our side (SPEC §6): the product service could not reserve the stock,
 * so the order is cancelled with reason `insufficient_stock` — if it still can be. The inbox row,
 * the cancellation and its OrderStatusUpdated outbox row commit together, so a redelivered event
 * changes nothing.
 */
export async function cancelOrderForInsufficientStock(
  deps: { pool: Pool },
  event: TypedEvent<'StockReservationFailed'>,
  consumer: string,
): Promise<HandlerOutcome> {
  return inTransaction(deps.pool, async (client) => {
    const tx = pgExecutor(client);
    if (!(await recordInboxOnce(tx, consumer, event.id))) return 'duplicate';
    const current = await pgOrderWrites.lock(client, event.data.order_id);
    if (!current || !isCancellable(current.status)) return 'ignored';
    const updated = await pgOrderWrites.cancel(client, current, INSUFFICIENT_STOCK);
    await orderEvents.append(tx, [
      orderEvents.statusUpdated(
        updated,
        { from: current.status, reason: INSUFFICIENT_STOCK, sequence: current.version + 1 },
        { correlationId: event.correlationid, causationId: event.id, traceparent: event.traceparent },
      ),
    ]);
    return 'applied';
  });
}
