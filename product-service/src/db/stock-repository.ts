import type { StockLine } from '../domain/reserve-stock';
import { Prisma } from '../generated/prisma/client';
import type { Db } from './prisma';

export type Tx = Prisma.TransactionClient;

export type ReservationStatus = 'reserved' | 'released' | 'rejected' | 'cancelled_before_create';

export interface Reservation {
  orderId: number;
  status: ReservationStatus;
  items: StockLine[];
}

/**
 * Runs one saga step in one transaction, holding a per-order advisory lock: an order's create and
 * cancel, delivered concurrently, are applied one after the other, so a cancel either sees the
 * reservation or leaves a tombstone the create then sees — never neither.
 */
export function inOrderTransaction<T>(db: Db, orderId: number, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADVISORY_NAMESPACE}::int, ${orderId}::int)`;
      return work(tx);
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
}
const ADVISORY_NAMESPACE = 8001;

/** Locks the products' rows in id order (the one lock order, so concurrent orders cannot deadlock) and returns their stock. */
export async function lockStock(tx: Tx, productIds: number[]): Promise<Map<number, number>> {
  const ids = [...productIds].sort((a, b) => a - b);
  const rows = await tx.$queryRaw<{ id: number; stock: number }[]>`
    SELECT id, stock FROM products WHERE id = ANY(${ids}::int[]) ORDER BY id FOR UPDATE`;
  return new Map(rows.map((row) => [row.id, row.stock]));
}

/** Adds `sign * quantity` to each product's stock (the CHECK stock >= 0 is the last line of defence). */
export async function adjustStock(tx: Tx, lines: StockLine[], sign: 1 | -1): Promise<void> {
  if (!lines.length) return;
  const ids = lines.map((line) => line.product_id);
  const deltas = lines.map((line) => sign * line.quantity);
  await tx.$executeRaw`
    UPDATE products p SET stock = p.stock + v.delta, updated_at = now()
      FROM unnest(${ids}::int[], ${deltas}::int[]) AS v(id, delta)
     WHERE p.id = v.id`;
}

export async function findReservation(tx: Tx, orderId: number): Promise<Reservation | undefined> {
  const row = await tx.stockReservation.findUnique({ where: { orderId } });
  return row ? { orderId: row.orderId, status: row.status as ReservationStatus, items: row.items as unknown as StockLine[] } : undefined;
}

export async function insertReservation(tx: Tx, reservation: Reservation): Promise<void> {
  await tx.stockReservation.create({
    data: { orderId: reservation.orderId, status: reservation.status, items: reservation.items as unknown as Prisma.InputJsonValue },
  });
}

export async function markReservation(tx: Tx, orderId: number, status: ReservationStatus): Promise<void> {
  await tx.stockReservation.update({ where: { orderId }, data: { status } });
}
