import type { Order, OrderStatus } from '@shop/contracts';
import type { Prisma as P } from '../generated/prisma/client';
import type { Prisma } from './prisma';
import { toOrder } from './order-mapper';

export type Tx = P.TransactionClient;

/** An order as it stands inside a transaction, locked against concurrent changes. */
export interface LockedOrder {
  id: number;
  userId: number;
  status: OrderStatus;
  version: number;
}

export interface OrderFilter {
  userId?: number;
  status?: OrderStatus;
  limit: number;
  offset: number;
}

const withItems = { items: { orderBy: { id: 'asc' } } } as const;

/** Reads outside a transaction: plain contract-shaped orders. */
export function createOrderReader(prisma: Prisma) {
  return {
    async findById(id: number): Promise<Order | undefined> {
      const row = await prisma.order.findUnique({ where: { id }, include: withItems });
      return row ? toOrder(row) : undefined;
    },

    async list(filter: OrderFilter): Promise<{ items: Order[]; total: number }> {
      const where = { userId: filter.userId, status: filter.status };
      const [rows, total] = await Promise.all([
        prisma.order.findMany({
          where,
          include: withItems,
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          take: filter.limit,
          skip: filter.offset,
        }),
        prisma.order.count({ where }),
      ]);
      return { items: rows.map(toOrder), total };
    },
  };
}

export type OrderReader = ReturnType<typeof createOrderReader>;

/** Status changes (PATCH), always inside the caller's transaction (see `runInTransaction`); placing an order is `order-writer.ts`. */
export const orderWrites = {
  /** Locks the order row (SELECT … FOR UPDATE) so a concurrent change waits and then sees ours. */
  async lock(tx: Tx, id: number): Promise<LockedOrder | undefined> {
    const rows = await tx.$queryRaw<{ id: number; user_id: number; status: string; version: number }[]>`
      SELECT id, user_id, status, version FROM orders WHERE id = ${id} FOR UPDATE`;
    const row = rows[0];
    return row
      ? { id: row.id, userId: row.user_id, status: row.status as OrderStatus, version: row.version }
      : undefined;
  },

  /**
   * Moves a locked order to its next status and bumps its version (the event sequence). The
   * version in the WHERE clause is a second guard: it fails loudly if the lock was not taken.
   */
  async updateStatus(
    tx: Tx,
    locked: LockedOrder,
    change: { status: OrderStatus; cancelReason: string | null },
  ): Promise<Order> {
    const { count } = await tx.order.updateMany({
      where: { id: locked.id, version: locked.version },
      data: {
        status: change.status,
        version: locked.version + 1,
        updatedAt: new Date(),
        ...(change.status === 'cancelled' ? { cancelReason: change.cancelReason } : {}),
      },
    });
    if (count !== 1) throw new Error(`order ${locked.id} changed underneath a held lock`);
    const row = await tx.order.findUniqueOrThrow({ where: { id: locked.id }, include: withItems });
    return toOrder(row);
  },
};

/** Runs `work` in one interactive transaction: everything it writes commits together or not at all. */
export function runInTransaction<T>(prisma: Prisma, work: (tx: Tx) => Promise<T>): Promise<T> {
  return prisma.$transaction(work, { timeout: 15_000, maxWait: 10_000 });
}
