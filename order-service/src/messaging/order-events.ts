import type { Order, TypedEvent } from '@shop/contracts';
import { buildEvent } from '@shop/platform';
import type { StatusChange } from '../domain/order-permissions';

export const SOURCE = '/order-service';
/** The order service's timers: a stream of their own, apart from the order's integration events. */
export const TIMERS_SOURCE = '/order-service/timers';

/** What ties an event to the request (or message) that caused it. */
export interface EventContext {
  correlationId: string;
  causationId?: string | null;
  traceparent?: string | null;
}

/**
 * The order service's integration events (SPEC §5), built from the contract-shaped order and, for a
 * status change, the domain's decision — validated against their contracts by `buildEvent` before
 * any is written. `sequence` is the order's version after the change (0 at creation, +1 per change).
 * The caller writes them to the outbox in the statement of the change (`outboxWrite` in `writeAll`).
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

  /**
   * The order's expiry timer, caused by its OrderCreated: scheduled with the order (`scheduleWrite`)
   * to be delivered at `expiresAt`, to the order service alone (SPEC §4 ORDER_PENDING_TTL).
   */
  expiryDue(created: TypedEvent<'OrderCreated'>, expiresAt: Date): TypedEvent<'OrderExpiryDue'> {
    return buildEvent({
      type: 'OrderExpiryDue',
      source: TIMERS_SOURCE,
      subject: created.data.order_id,
      sequence: 0,
      correlationId: created.correlationid,
      causationId: created.id,
      traceparent: created.traceparent,
      data: { order_id: created.data.order_id, expires_at: expiresAt.toISOString() },
    });
  },

  /** Built the same way whoever asked (a PATCH or the stock saga): from the order as it now stands. */
  statusUpdated(order: Order, change: StatusChange, context: EventContext): TypedEvent<'OrderStatusUpdated'> {
    return buildEvent({
      type: 'OrderStatusUpdated',
      source: SOURCE,
      subject: order.id,
      sequence: change.version,
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
};
