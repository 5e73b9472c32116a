import type { Order, OrderStatus } from '@shop/contracts';
import type { Database, Statement } from '@shop/platform';
import { sql, type Selectable } from 'kysely';
import type { StatusChange } from '../domain/order-permissions';
import type { ReservedIds } from '../domain/order-snapshot';
import type { DB } from '../generated/database';

/*
 * The order service's tables (orders, order_items) through Kysely: reads outside a transaction,
 * id reservation, the lock of a change, the writes as statements for platform's `writeAll`, and
 * the one mapping of rows to the contract's `Order`. The Idempotency-Key claims are
 * `idempotency-repository.ts`.
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

/**
 * Reserves a new order's ids (the order's and one per item, from the tables' own sequences) and
 * reads the database's clock, in one round trip outside any transaction — so the order can be
 * built whole before it is written (`newOrder`) and nothing need be read back after the write. An
 * id reserved for an order that is then not written is a gap in the sequence, nothing more.
 */
export async function reserveIds(db: Database<DB>, itemCount: number): Promise<ReservedIds> {
  const row = await db
    .selectNoFrom([
      sql<number>`nextval('orders_id_seq')::int`.as('order_id'),
      sql<
        number[]
      >`array(SELECT nextval('order_items_id_seq')::int FROM generate_series(1, ${itemCount}::int))`.as(
        'item_ids',
      ),
      sql<Date>`now()`.as('at'),
    ])
    .executeTakeFirstOrThrow();
  return { orderId: row.order_id, itemIds: [...row.item_ids].sort((a, b) => a - b), at: row.at };
}

/** An order as it stands inside a transaction, its row locked against concurrent changes. */
export interface LockedOrder {
  order: Order;
  /** Its event sequence so far (not part of the contract's Order). */
  version: number;
  /** The database's clock once the lock was held: the time of a change made under this lock. */
  lockedAt: Date;
}

/**
 * Order writes, built but not run (Kysely statements for platform's `writeAll`, which sends them
 * with the event's outbox row as one statement), and the lock that precedes a change.
 */
export const orderWrites = {
  /** The INSERTs of a new order (built by `newOrder`, ids reserved) and of its items, exactly as answered. */
  placement(tx: Database<DB>, order: Order): Statement[] {
    return [
      tx.insertInto('orders').values({
        id: order.id,
        user_id: order.user_id,
        status: order.status,
        total_amount: order.total_amount,
        cancel_reason: order.cancel_reason,
        version: 0,
        created_at: order.created_at,
        updated_at: order.updated_at,
      }),
      tx.insertInto('order_items').values(
        order.items.map((item) => ({
          id: item.id,
          order_id: order.id,
          product_id: item.product_id,
          product_name: item.product_name,
          product_price: item.product_price,
          quantity: item.quantity,
          subtotal: item.subtotal,
        })),
      ),
    ];
  },

  /**
   * Locks the order row (SELECT … FOR UPDATE) so a concurrent change waits and then sees ours, and
   * loads it with its items. The clock is read in the outer query, on the row the locking CTE
   * hands out — so after the lock is held: a change that waited for another never carries an
   * earlier time than the one it follows.
   */
  async lock(tx: Database<DB>, id: number): Promise<LockedOrder | undefined> {
    const row = await tx
      .with('locked', (db) => db.selectFrom('orders').selectAll().where('id', '=', id).forUpdate())
      .selectFrom('locked')
      .selectAll()
      .select(sql<Date>`clock_timestamp()`.as('locked_at'))
      .executeTakeFirst();
    if (!row) return undefined;
    const { locked_at: lockedAt, ...order } = row;
    return { order: toOrder(order, await itemsOf(tx, [order.id])), version: order.version, lockedAt };
  },

  /**
   * The UPDATE that writes a change the domain allowed (`changed`, from `changedOrder`) to a locked
   * order; it returns the row's id. The version in the WHERE clause is a second guard: no row back
   * means the lock was not taken, and the caller must fail.
   */
  statusUpdate(
    tx: Database<DB>,
    locked: LockedOrder,
    changed: Order,
    change: StatusChange,
  ): Statement<{ id: number }> {
    return tx
      .updateTable('orders')
      .set({
        status: changed.status,
        cancel_reason: changed.cancel_reason,
        version: change.version,
        updated_at: changed.updated_at,
      })
      .where('id', '=', locked.order.id)
      .where('version', '=', locked.version)
      .returning('id');
  },
};
