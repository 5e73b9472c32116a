import type { Order, OrderStatus } from '@shop/contracts';
import type { Database } from '@shop/platform';
import type { DB } from '../generated/database';
import { toOrder, type OrderItemRow, type OrderRow } from './order-mapper';

export interface OrderFilter {
  userId?: number;
  status?: OrderStatus;
  limit: number;
  offset: number;
}

/** The items of the given orders, by id (the order they were placed in). */
export async function itemsOf(db: Database<DB>, orderIds: readonly number[]): Promise<OrderItemRow[]> {
  if (orderIds.length === 0) return [];
  return db.selectFrom('order_items').selectAll().where('order_id', 'in', orderIds).orderBy('id').execute();
}

/** Orders with their items, as the contract shapes them. */
function withItems(rows: readonly OrderRow[], items: readonly OrderItemRow[]): Order[] {
  return rows.map((row) =>
    toOrder(
      row,
      items.filter((item) => item.order_id === row.id),
    ),
  );
}

/** Reads outside a transaction: plain contract-shaped orders. */
export function createOrderReader(db: Database<DB>) {
  return {
    async findById(id: number): Promise<Order | undefined> {
      const row = await db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toOrder(row, await itemsOf(db, [row.id])) : undefined;
    },

    /** A page of orders, newest first, and how many match in all. */
    async list(filter: OrderFilter): Promise<{ items: Order[]; total: number }> {
      let matching = db.selectFrom('orders');
      if (filter.userId !== undefined) matching = matching.where('user_id', '=', filter.userId);
      if (filter.status !== undefined) matching = matching.where('status', '=', filter.status);
      const [rows, count] = await Promise.all([
        matching
          .selectAll()
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(filter.limit)
          .offset(filter.offset)
          .execute(),
        matching.select((eb) => eb.fn.countAll<string>().as('total')).executeTakeFirstOrThrow(),
      ]);
      const items = await itemsOf(
        db,
        rows.map((row) => row.id),
      );
      return { items: withItems(rows, items), total: Number(count.total) };
    },
  };
}

export type OrderReader = ReturnType<typeof createOrderReader>;
