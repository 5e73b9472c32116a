import type { AnyEvent, Order, OrderStatus, TypedEvent } from '@shop/contracts';
import { appendToOutbox, buildEvent, type SqlExecutor } from '@shop/platform';

export const SOURCE = '/order-service';

/** What ties an event to the request (or message) that caused it. */
export interface EventContext {
  correlationId: string;
  causationId?: string | null;
  traceparent?: string | null;
}

/**
 * The order service's integration events (SPEC §5), built from the contract-shaped order, with
 * `sequence` = the order's version after the change (0 at creation, +1 per status change).
 */
export const orderEvents = {
  created(order: Order, context: EventContext): TypedEvent<'OrderCreated'> {
    return buildEvent({
      type: 'OrderCreated',
      source: SOURCE,
      subject: order.id,
      sequence: 0,
      correlationId: context.correlationId,
      causationId: context.causationId,
      traceparent: context.traceparent,
      data: {
        order_id: order.id,
        user_id: order.user_id,
        status: order.status,
        total_amount: order.total_amount,
        items: order.items.map((item) => ({
          product_id: item.product_id,
          product_name: item.product_name,
          product_price: item.product_price,
          quantity: item.quantity,
          subtotal: item.subtotal,
        })),
        created_at: order.created_at,
      },
    });
  },

  statusUpdated(
    order: Order,
    change: { from: OrderStatus; reason: string | null; sequence: number },
    context: EventContext,
  ): TypedEvent<'OrderStatusUpdated'> {
    return buildEvent({
      type: 'OrderStatusUpdated',
      source: SOURCE,
      subject: order.id,
      sequence: change.sequence,
      correlationId: context.correlationId,
      causationId: context.causationId,
      traceparent: context.traceparent,
      data: {
        order_id: order.id,
        user_id: order.user_id,
        from_status: change.from,
        to_status: order.status,
        reason: change.reason,
        updated_at: order.updated_at,
      },
    });
  },

  /** Appends to the outbox inside the caller's transaction (never beside it). */
  append(tx: SqlExecutor, events: readonly AnyEvent[]): Promise<number> {
    return appendToOutbox(tx, events, { aggregateType: 'order' });
  },
};
