import type { Order } from '@shop/contracts';
import type { Database } from '@shop/platform';
import { sql } from 'kysely';
import type { StatusChange } from '../domain/order-permissions';
import { INITIAL_STATUS } from '../domain/order-status';
import type { PricedOrder } from '../domain/pricing';
import type { DB } from '../generated/database';
import { toOrder } from './order-mapper';
import { itemsOf } from './order-reader';

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
