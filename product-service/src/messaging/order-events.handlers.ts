import type { TypedEvent } from '@shop/contracts';
import { claimInbox, type EventHandlers, type HandlerContext } from '@shop/platform';
import type { Db } from '../db/database';
import { stockEffectOfStatusChange } from '../domain/stock-reservation';
import { releaseStock, reserveStock, type SagaCause } from '../use-cases/stock-saga';

const causeOf = (
  event: TypedEvent<'OrderCreated' | 'OrderStatusUpdated'>,
  context: HandlerContext,
): SagaCause => ({
  ...context.claim,
  correlationId: event.correlationid,
  traceparent: event.traceparent,
});

/** product-service.orders: each order event dispatches to one use case; the consumer acks, retries or dead-letters. */
export function orderEventHandlers(db: Db): EventHandlers {
  return {
    OrderCreated: (event, context) =>
      reserveStock(db, { orderId: event.data.order_id, items: event.data.items }, causeOf(event, context)),
    OrderStatusUpdated: async (event, context) => {
      if (stockEffectOfStatusChange(event.data) === 'release') {
        return releaseStock(db, event.data.order_id, causeOf(event, context));
      }
      // No effect on stock (any change but a cancel, or the cancel of a shipped order): the inbox
      // alone records it, so a redelivery is still told apart as a duplicate.
      return (await claimInbox(db, context.claim)) ? 'ignored' : 'duplicate';
    },
  };
}
