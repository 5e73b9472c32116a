import type { Statement } from '@shop/platform';
import { sql } from 'kysely';
import type { Reservation, ReservationStatus, StockLevel, StockLine } from '../domain/stock-reservation';
import type { Db } from './database';

/*
 * The saga's reads run here; its writes are built here but not run: a saga step sends what the
 * domain decided, its event included, as one statement (platform's `writeAll`).
 */

const ORDER_LOCK_NAMESPACE = 8001;

/**
 * The advisory lock that serialises one order's saga steps. An order's create and cancel,
 * delivered concurrently, are applied one after the other, so a cancel either sees the reservation
 * or leaves a tombstone the create then sees — never neither. It is taken in BEGIN's round trip,
 * so every statement after it sees what the previous holder committed.
 */
export const orderLock = (orderId: number) => [ORDER_LOCK_NAMESPACE, orderId] as const;

/** What the saga has recorded for the order, if anything. Only saga steps write the row, under `orderLock`. */
export async function loadReservation(tx: Db, orderId: number): Promise<Reservation | undefined> {
  const row = await tx
    .selectFrom('stock_reservations')
    .select(['status', 'items'])
    .where('order_id', '=', orderId)
    .executeTakeFirst();
  return row && { status: row.status as ReservationStatus, items: row.items as StockLine[] };
}

/**
 * Locks the products FOR UPDATE and returns their stock by id; unknown ids are absent. Rows are
 * locked in id order, so two orders sharing products never wait on each other crosswise (no deadlock),
 * and the stock read is the stock until commit: no concurrent order can take the last unit too.
 */
export async function lockProducts(tx: Db, productIds: readonly number[]): Promise<Map<number, number>> {
  if (productIds.length === 0) return new Map();
  const rows = await tx
    .selectFrom('products')
    .select(['id', 'stock'])
    .where('id', 'in', [...productIds])
    .orderBy('id')
    .forUpdate()
    .execute();
  return new Map(rows.map((row) => [row.id, row.stock]));
}

/**
 * Sets each product's stock to the level the domain decided on rows `lockProducts` holds. The
 * levels are absolute, not increments, so the write does not depend on reading the row again (in
 * `writeAll` it sees the statement's snapshot, which the lock already made current). No levels
 * update nothing. One statement text for any number of products, so it stays one prepared statement.
 */
export function stockLevelsWrite(tx: Db, levels: readonly StockLevel[]): Statement {
  const ids = levels.map((level) => level.product_id);
  const stocks = levels.map((level) => level.stock);
  return (
    tx
      .updateTable('products')
      // The levels as a table to join on: the query builder has no VALUES list for UPDATE … FROM.
      .from(
        sql<StockLevel>`unnest(${ids}::int[], ${stocks}::int[])`.as<'level'>(sql`level(product_id, stock)`),
      )
      .set((eb) => ({ stock: eb.ref('level.stock'), updated_at: sql`now()` }))
      .whereRef('products.id', '=', 'level.product_id')
  );
}

/** Records what the saga decided for an order it has not seen before (the order's lock is held). */
export function reservationInsert(tx: Db, orderId: number, reservation: Reservation): Statement {
  return tx
    .insertInto('stock_reservations')
    .values({ order_id: orderId, status: reservation.status, items: JSON.stringify(reservation.items) });
}

export function reservationStatusUpdate(tx: Db, orderId: number, status: ReservationStatus): Statement {
  return tx
    .updateTable('stock_reservations')
    .set({ status, updated_at: sql`now()` })
    .where('order_id', '=', orderId);
}
