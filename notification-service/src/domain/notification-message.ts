import type { AnyEvent } from '@shop/contracts';

/**
 * What a person reads about an event: one line, e.g. "Order #12 for user 42 created: 2 items,
 * total 205.48". Pure, so every event type's wording is unit-tested; amounts are the contract's
 * decimal strings, printed as they are.
 */
export function renderNotification(event: AnyEvent): string {
  switch (event.type) {
    case 'OrderCreated': {
      const { order_id, user_id, items, total_amount } = event.data;
      return `Order #${order_id} for user ${user_id} created: ${countOf(items.length)}, total ${total_amount}`;
    }
    case 'OrderStatusUpdated': {
      const { order_id, from_status, to_status, reason } = event.data;
      return `Order #${order_id} status ${from_status} → ${to_status}${reason ? ` (reason: ${reason})` : ''}`;
    }
    case 'StockReserved':
      return `Stock reserved for order #${event.data.order_id}: ${countOf(event.data.items.length)}`;
    case 'StockReservationFailed': {
      const { order_id, reason, shortages } = event.data;
      const detail = shortages.length
        ? shortages
            .map(({ product_id, requested, available }) => `product ${product_id} short (requested ${requested}, available ${available})`)
            .join('; ')
        : reason;
      return `Stock reservation failed for order #${order_id}: ${detail}`;
    }
    case 'StockReleased':
      return `Stock released for order #${event.data.order_id}`;
    // The order service's own timer: never routed here (not an integration event), worded all the same.
    case 'OrderExpiryDue':
      return `Order #${event.data.order_id} reservation expiry due at ${event.data.expires_at}`;
  }
}

/**
 * The user an event is about, when the event itself says so. Inventory events do not carry a
 * user: `undefined` tells the caller to take it from what it already knows about the order.
 */
export function userIdOf(event: AnyEvent): number | undefined {
  return event.type === 'OrderCreated' || event.type === 'OrderStatusUpdated' ? event.data.user_id : undefined;
}

const countOf = (lines: number) => `${lines} ${lines === 1 ? 'item' : 'items'}`;
