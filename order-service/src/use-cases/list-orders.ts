import type { ListOrdersQuery, OrderList } from '@shop/contracts';
import type { OrderReader } from '../db/order-store';
import type { Actor } from '../domain/order-permissions';

/**
 * Lists orders with their items, newest first. A user sees only their own (a `user_id` they pass
 * is ignored: they cannot look at anyone else's); an admin sees everyone's or filters by `user_id`.
 */
export async function listOrders(
  deps: { orders: OrderReader },
  actor: Actor,
  query: ListOrdersQuery,
): Promise<OrderList> {
  const userId = actor.isAdmin ? query.user_id : actor.userId;
  const { items, total } = await deps.orders.list({
    userId,
    status: query.status,
    limit: query.limit,
    offset: query.offset,
  });
  return { items, total, limit: query.limit, offset: query.offset };
}
