import type { EventType, Notification } from '@shop/contracts';
import { recordInboxOnce } from '@shop/platform';
import { Prisma } from '../generated/prisma/client';
import type { Db } from './prisma';

type NotificationRow = {
  id: number;
  eventId: string;
  eventType: string;
  orderId: number;
  userId: number | null;
  message: string;
  occurredAt: Date;
  createdAt: Date;
};

/** The one mapper from a database row to the contract's Notification. */
export const toNotification = (row: NotificationRow): Notification => ({
  id: row.id,
  event_id: row.eventId,
  event_type: row.eventType as EventType,
  order_id: row.orderId,
  user_id: row.userId,
  message: row.message,
  occurred_at: row.occurredAt.toISOString(),
  created_at: row.createdAt.toISOString(),
});

export interface NewNotification {
  eventId: string;
  eventType: EventType;
  orderId: number;
  /** `undefined`: the event names no user, take the one already known for the order (else null). */
  userId: number | undefined;
  message: string;
  occurredAt: Date;
}

export interface NotificationFilter {
  orderId?: number;
  type?: EventType;
  /** Only this user's notifications (a non-admin caller). */
  userId?: number;
  limit: number;
  offset: number;
}

/** Advisory-lock key space for "one order at a time" (the second key is the order id). */
const ORDER_LOCK_SPACE = 4_004;

export type RecordOutcome = { outcome: 'applied'; notification: Notification } | { outcome: 'duplicate' };

export function createNotificationRepository(db: Db) {
  return {
    /**
     * Records the event in the inbox and its notification in one transaction: both commit or
     * neither does, and an event id seen before (by this consumer) inserts nothing.
     */
    async recordOnce(consumer: string, input: NewNotification): Promise<RecordOutcome> {
      try {
        return await db.$transaction(async (tx) => {
          if (!(await recordInboxOnce(tx, consumer, input.eventId))) return { outcome: 'duplicate' } as const;
          // Events of one order are recorded one at a time: an inventory event consumed alongside its
          // OrderCreated then either sees the user it names, or is there for its back-fill to find.
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ORDER_LOCK_SPACE}::int, ${input.orderId}::int)`;
          const userId = input.userId ?? (await knownUserOf(tx, input.orderId));
          const row = await tx.notification.create({
            data: {
              eventId: input.eventId,
              eventType: input.eventType,
              orderId: input.orderId,
              userId,
              message: input.message,
              occurredAt: input.occurredAt,
            },
          });
          // An inventory event that overtook its order's OrderCreated was recorded without a user;
          // now that the user is known, those notifications become visible to them too.
          if (input.userId !== undefined) {
            await tx.notification.updateMany({ where: { orderId: input.orderId, userId: null }, data: { userId: input.userId } });
          }
          return { outcome: 'applied', notification: toNotification(row) } as const;
        });
      } catch (error) {
        // Same event id already recorded (e.g. under another inbox name): still one notification.
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return { outcome: 'duplicate' };
        throw error;
      }
    },

    async list(filter: NotificationFilter): Promise<{ items: Notification[]; total: number }> {
      const where: Prisma.NotificationWhereInput = {
        ...(filter.orderId !== undefined && { orderId: filter.orderId }),
        ...(filter.type !== undefined && { eventType: filter.type }),
        ...(filter.userId !== undefined && { userId: filter.userId }),
      };
      const [rows, total] = await db.$transaction([
        db.notification.findMany({
          where,
          orderBy: [{ occurredAt: 'asc' }, { id: 'asc' }],
          take: filter.limit,
          skip: filter.offset,
        }),
        db.notification.count({ where }),
      ]);
      return { items: rows.map(toNotification), total };
    },
  };
}

export type NotificationRepository = ReturnType<typeof createNotificationRepository>;

/** The user of an order, from a notification that named one (OrderCreated, OrderStatusUpdated). */
async function knownUserOf(tx: Prisma.TransactionClient, orderId: number): Promise<number | null> {
  const known = await tx.notification.findFirst({
    where: { orderId, userId: { not: null } },
    orderBy: { id: 'asc' },
    select: { userId: true },
  });
  return known?.userId ?? null;
}
