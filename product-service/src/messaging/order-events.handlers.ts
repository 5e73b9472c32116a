import type { TypedEvent } from '@shop/contracts';
import { claimInbox, type BatchHandler, type EventHandlers, type HandlerContext } from '@shop/platform';
import type { Db } from '../db/database';
import { stockEffectOfStatusChange } from '../domain/stock-reservation';
import {
  applyStockSteps,
  releaseStock,
  reserveStock,
  type SagaCause,
  type StockStep,
} from '../use-cases/stock-saga';

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

/** The order events that arrive together, as one batch of saga steps in one transaction (the consumer's `batch`). */
export function orderEventBatch(db: Db, maxSize: number): BatchHandler {
  return {
    maxSize,
    handle: (batch) =>
      applyStockSteps(
        db,
        batch.map(({ event, context }): StockStep => {
          if (event.type === 'OrderCreated') {
            const { order_id: orderId, items } = event.data;
            return { kind: 'reserve', orderId, items, cause: causeOf(event, context) };
          }
          if (event.type === 'OrderStatusUpdated') {
            const kind = stockEffectOfStatusChange(event.data) === 'release' ? 'release' : 'record';
            return { kind, orderId: event.data.order_id, cause: causeOf(event, context) };
          }
          // Only events with a handler above join a batch.
          throw new Error(`no saga step for ${event.type}`);
        }),
      ),
  };
}
