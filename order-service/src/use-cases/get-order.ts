import type { Order } from '@shop/contracts';
import { AppError } from '@shop/platform';
import type { OrderReader } from '../db/order-store';
import { canSeeOrder, type Actor } from '../domain/order-permissions';

export const orderNotFound = (id: number | string) =>
  new AppError(404, 'order_not_found', `No order with id ${id}.`);

/** An order its owner or an admin asks for; anyone else is told it does not exist. */
export async function getOrder(deps: { orders: OrderReader }, actor: Actor, id: number): Promise<Order> {
  const order = await deps.orders.findById(id);
  if (!order || !canSeeOrder(actor, { userId: order.user_id })) throw orderNotFound(id);
  return order;
}
