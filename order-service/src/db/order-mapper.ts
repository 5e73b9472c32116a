import type { Order, OrderStatus } from '@shop/contracts';
import type { Prisma } from '../generated/prisma/client';

type OrderRow = Prisma.OrderGetPayload<{ include: { items: true } }>;

/** The one place an order row becomes the contract's `Order` (snake_case, money strings, ISO times). */
export function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    user_id: row.userId,
    status: row.status as OrderStatus,
    total_amount: row.totalAmount.toFixed(2),
    cancel_reason: row.cancelReason,
    items: [...row.items]
      .sort((a, b) => a.id - b.id)
      .map((item) => ({
        id: item.id,
        product_id: item.productId,
        product_name: item.productName,
        product_price: item.productPrice.toFixed(2),
        quantity: item.quantity,
        subtotal: item.subtotal.toFixed(2),
      })),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
