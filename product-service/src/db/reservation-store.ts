import type { Statement } from '@shop/platform';
import { sql } from 'kysely';
import type { Reservation, ReservationStatus, StockLine } from '../domain/stock-reservation';
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

/**
 * What the saga has recorded for the order, if anything (only saga steps write the row, under
 * `orderLock`). Built but not run.
 */
export const reservationQuery = (tx: Db, orderId: number) =>
  tx.selectFrom('stock_reservations').select(['status', 'items']).where('order_id', '=', orderId);

/** What `reservationQuery`'s rows say. */
export function readReservation(
  rows: readonly { status: string; items: unknown }[],
): Reservation | undefined {
  const row = rows[0];
  return row && { status: row.status as ReservationStatus, items: row.items as StockLine[] };
}

/**
 * The products saga steps are about to change, locked in id order, sent ahead of their writes in
 * the same round trip: steps and batches that share products then take them in one order and wait
 * for each other instead of deadlocking. Built but not run.
 */
export const productsLock = (tx: Db, productIds: readonly number[]) =>
  tx
    .selectFrom('products')
    .select('id')
    .where('id', '=', sql<number>`ANY(${[...productIds]}::int[])`)
    .orderBy('id')
    .forUpdate();

/**
 * What a reservation decides on, in one read: whether the saga has already recorded anything for the
 * order (a reservation, a rejection, the tombstone of a cancel that came first), and each product's
 * stock, read without a lock (unknown ids are absent). One row per product asked for (an order
 * names at least one, by contract), each carrying the order's recorded status. The write that follows
 * (`stockChange`) is refused by the database (CHECK stock >= 0) if a concurrent reservation took the
 * last units in between, and the step runs again on fresh stock (`isLostStockRace`). Locking the rows
 * here instead would hold every product of the order from this read until COMMIT, two round trips,
 * and reservations of popular products would queue behind that. Built but not run.
 */
export function reservationLoadQuery(tx: Db, orderId: number, productIds: readonly number[]) {
  return tx
    .selectFrom(
      sql<{ product_id: number }>`unnest(${[...productIds]}::int[])`.as<'line'>(sql`line(product_id)`),
    )
    .leftJoin('products', 'products.id', 'line.product_id')
    .select((eb) => [
      'line.product_id',
      'products.stock',
      eb.selectFrom('stock_reservations').select('status').where('order_id', '=', orderId).as('recorded'),
    ]);
}

/** What a reservation read: whether the order is decided already, and the stock of its products. */
export interface ReservationLoad {
  recorded: boolean;
  stock: Map<number, number>;
}

/** What `reservationLoadQuery`'s rows say. */
export function readReservationLoad(
  rows: readonly { product_id: number; stock: number | null; recorded: unknown }[],
): ReservationLoad {
  const stock = new Map<number, number>();
  for (const row of rows) if (row.stock !== null) stock.set(row.product_id, row.stock);
  return { recorded: rows.some((row) => row.recorded !== null), stock };
}

/**
 * Takes the lines' quantities from stock, or gives them back: relative to the row as it is when the
 * UPDATE reaches it (it waits for a concurrent writer of the row and re-reads it), so two
 * reservations of one product both count. One statement text for any number of lines.
 */
export function stockChange(tx: Db, lines: readonly StockLine[], direction: 'take' | 'give back'): Statement {
  const ids = lines.map((line) => line.product_id);
  const quantities = lines.map((line) => (direction === 'take' ? -line.quantity : line.quantity));
  return (
    tx
      .updateTable('products')
      // The lines as a table to join on: the query builder has no VALUES list for UPDATE … FROM.
      .from(
        sql<StockLine>`unnest(${ids}::int[], ${quantities}::int[])`.as<'line'>(
          sql`line(product_id, quantity)`,
        ),
      )
      .set((eb) => ({ stock: eb('products.stock', '+', eb.ref('line.quantity')), updated_at: sql`now()` }))
      .whereRef('products.id', '=', 'line.product_id')
  );
}

const CHECK_VIOLATION = '23514';
const DEADLOCK_DETECTED = '40P01';

/**
 * A reservation that lost a race for stock: a concurrent one took the last units after our read (the
 * CHECK refused the write), or two orders' stock changes locked shared products in opposite orders
 * (Postgres broke the deadlock). Nothing was written; the step runs again.
 */
export const isLostStockRace = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === CHECK_VIOLATION || code === DEADLOCK_DETECTED;
};

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
