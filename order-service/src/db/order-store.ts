import type { Order, OrderStatus } from '@shop/contracts';
import type { Database } from '@shop/platform';
import { sql, type Selectable } from 'kysely';
import type { StatusChange } from '../domain/order-permissions';
import { INITIAL_STATUS } from '../domain/order-status';
import type { PricedOrder } from '../domain/pricing';
import type { DB } from '../generated/database';

/*
 * The order service's tables (orders, order_items) through Kysely: reads outside a transaction,
 * writes inside the caller's (platform `inTransaction`), and the one mapping of rows to the
 * contract's `Order`. The Idempotency-Key claims are `idempotency-repository.ts`.
 */

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

/** An order as it stands inside a transaction, its row locked against concurrent changes. */
export interface LockedOrder {
  order: Order;
  /** Its event sequence so far (not part of the contract's Order). */
  version: number;
}

/** Order writes, always inside the caller's transaction (platform `inTransaction`). */
export const orderWrites = {
  /**
   * Inserts a new order and its items and returns it as the contract shapes it. Only what the
   * database assigns is read back (ids, the insert time); the rest is what was written.
   */
  async insert(tx: Database<DB>, userId: number, priced: PricedOrder): Promise<Order> {
    const values = {
      user_id: userId,
      status: INITIAL_STATUS,
      total_amount: priced.totalAmount,
      cancel_reason: null,
      version: 0,
    };
    const assigned = await tx
      .insertInto('orders')
      .values(values)
      .returning(['id', 'created_at', 'updated_at'])
      .executeTakeFirstOrThrow();
    const lines = priced.lines.map((line) => ({
      order_id: assigned.id,
      product_id: line.productId,
      product_name: line.productName,
      product_price: line.productPrice,
      quantity: line.quantity,
      subtotal: line.subtotal,
    }));
    const itemIds = await tx
      .insertInto('order_items')
      .values(lines)
      .returning(['id', 'product_id'])
      .execute();
    // Matched by product, not by position: Postgres does not promise RETURNING in VALUES order, and
    // an order names each product once (the contract refuses a repeated product_id).
    const idOf = new Map(itemIds.map((item) => [item.product_id, item.id]));
    return toOrder(
      { ...values, ...assigned },
      lines.map((line) => ({ ...line, id: idOf.get(line.product_id)! })),
    );
  },

  /** Locks the order row (SELECT … FOR UPDATE) so a concurrent change waits and then sees ours; with its items. */
  async lock(tx: Database<DB>, id: number): Promise<LockedOrder | undefined> {
    const row = await tx.selectFrom('orders').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row) return undefined;
    return { order: toOrder(row, await itemsOf(tx, [row.id])), version: row.version };
  },

  /**
   * Writes a change the domain allowed to a locked order and returns the order as it now stands.
   * The version in the WHERE clause is a second guard: it fails loudly if the lock was not taken.
   * `updated_at` is the database's clock after the lock was taken, so a change that waited for
   * another never carries an earlier time than the one it follows.
   */
  async updateStatus(tx: Database<DB>, locked: LockedOrder, change: StatusChange): Promise<Order> {
    const updated = await tx
      .updateTable('orders')
      .set({
        status: change.to,
        cancel_reason: change.cancelReason,
        version: change.version,
        updated_at: sql<Date>`clock_timestamp()`,
      })
      .where('id', '=', locked.order.id)
      .where('version', '=', locked.version)
      .returning('updated_at')
      .executeTakeFirst();
    if (!updated) throw new Error(`order ${locked.order.id} changed underneath a held lock`);
    return {
      ...locked.order,
      status: change.to,
      cancel_reason: change.cancelReason,
      updated_at: updated.updated_at.toISOString(),
    };
  },
};
