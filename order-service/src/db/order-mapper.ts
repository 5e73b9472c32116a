import type { Order, OrderStatus } from '@shop/contracts';
import type { Selectable } from 'kysely';
import type { DB } from '../generated/database';

export type OrderRow = Selectable<DB['orders']>;
export type OrderItemRow = Selectable<DB['order_items']>;

/**
 * The one place an order row and its item rows become the contract's `Order` (snake_case, money
 * strings, ISO times). Money needs no formatting: pg returns numeric(10,2) as text with two places.
 */
export function toOrder(row: OrderRow, items: readonly OrderItemRow[]): Order {
  return {
    id: row.id,
    user_id: row.user_id,
    status: row.status as OrderStatus,
    total_amount: row.total_amount,
    cancel_reason: row.cancel_reason,
    items: [...items]
      .sort((a, b) => a.id - b.id)
      .map((item) => ({
        id: item.id,
        product_id: item.product_id,
        product_name: item.product_name,
        product_price: item.product_price,
        quantity: item.quantity,
        subtotal: item.subtotal,
      })),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
