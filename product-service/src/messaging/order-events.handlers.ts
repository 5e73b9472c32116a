import type { TypedEvent } from '@shop/contracts';
import type { EventHandlers, HandlerContext } from '@shop/platform';
import type { Pool } from '../db/pool';
import { stockEffectOfStatusChange } from '../domain/stock-on-status-change';
import { recordOrderStatus } from '../use-cases/record-order-status';
import { releaseStock } from '../use-cases/release-stock';
import { reserveStock } from '../use-cases/reserve-stock';
import type { SagaCause } from '../use-cases/saga-cause';

const causeOf = (event: TypedEvent<'OrderCreated' | 'OrderStatusUpdated'>, context: HandlerContext): SagaCause => ({
  consumer: context.consumer,
  eventId: event.id,
  correlationId: event.correlationid,
  traceparent: event.traceparent,
});

/** product-service.orders: each order event dispatches to one use case; the consumer acks, retries or dead-letters. */
export function orderEventHandlers(pool: Pool): EventHandlers {
  return {
    OrderCreated: (event, context) =>
      reserveStock(pool, { orderId: event.data.order_id, items: event.data.items }, causeOf(event, context)),
    OrderStatusUpdated: (event, context) =>
      stockEffectOfStatusChange(event.data) === 'release'
        ? releaseStock(pool, event.data.order_id, causeOf(event, context))
        : recordOrderStatus(pool, causeOf(event, context)),
  };
}
