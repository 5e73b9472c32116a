import type { EventType, Notification } from '@shop/contracts';
import { INBOX_INSERT, inTransaction } from '@shop/platform';
import type { Db } from './pool';

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

// Inbox row, notification and back-fill in one statement (one snapshot, taken after the order's
// lock): an event id this consumer has seen inserts nothing and returns no row. The user is the
// event's own, else the one a notification of the order already named (else null); naming a user
// back-fills the order's notifications recorded without one.
const RECORD = `
  WITH inbox AS (${INBOX_INSERT} RETURNING event_id), inserted AS (
    INSERT INTO notifications (event_id, event_type, order_id, user_id, message, occurred_at)
    SELECT inbox.event_id, $3, $4::int,
           coalesce($5::int, (SELECT user_id FROM notifications
                                WHERE order_id = $4::int AND user_id IS NOT NULL ORDER BY id LIMIT 1)),
           $6, $7::timestamptz
      FROM inbox
    RETURNING id, user_id, created_at
  ), backfill AS (
    UPDATE notifications SET user_id = $5::int
     WHERE $5::int IS NOT NULL AND order_id = $4::int AND user_id IS NULL AND EXISTS (SELECT 1 FROM inbox)
  )
  SELECT id, user_id, created_at FROM inserted`;

const LIST = `
  WITH matching AS (
    SELECT id, event_id, event_type, order_id, user_id, message, occurred_at, created_at
      FROM notifications
     WHERE ($1::int IS NULL OR order_id = $1::int)
       AND ($2::text IS NULL OR event_type = $2::text)
       AND ($3::int IS NULL OR user_id = $3::int)
  ), page AS (
    SELECT * FROM matching ORDER BY occurred_at, id LIMIT $4 OFFSET $5
  )
  SELECT (SELECT count(*) FROM matching)::int AS total, page.*
    FROM (SELECT 1) AS one LEFT JOIN page ON true
   ORDER BY page.occurred_at, page.id`;

const UNIQUE_VIOLATION = '23505';

type ListRow = {
  total: number;
  id: number | null;
  event_id: string;
  event_type: string;
  order_id: number;
  user_id: number | null;
  message: string;
  occurred_at: Date;
  created_at: Date;
};

export function createNotificationRepository(db: Db) {
  return {
    /**
     * Records the event in the inbox and its notification in one transaction: both commit or
     * neither does, and an event id seen before (by this consumer) inserts nothing. Three round
     * trips: BEGIN with the order's lock, the recording statement, COMMIT.
     */
    async recordOnce(consumer: string, input: NewNotification): Promise<RecordOutcome> {
      try {
        // Events of one order are recorded one at a time (the order's advisory lock): an inventory
        // event consumed alongside its OrderCreated then either sees the user it names, or is there
        // for its back-fill to find.
        const rows = await inTransaction(
          db,
          async (client) =>
            (
              await client.query<{ id: number; user_id: number | null; created_at: Date }>({
                name: 'notification-record',
                text: RECORD,
                values: [
                  consumer,
                  input.eventId,
                  input.eventType,
                  input.orderId,
                  input.userId ?? null,
                  input.message,
                  input.occurredAt,
                ],
              })
            ).rows,
          { advisoryLock: [ORDER_LOCK_SPACE, input.orderId] },
        );
        const [row] = rows;
        if (!row) return { outcome: 'duplicate' };
        return {
          outcome: 'applied',
          notification: toNotification({
            id: row.id,
            eventId: input.eventId,
            eventType: input.eventType,
            orderId: input.orderId,
            userId: row.user_id,
            message: input.message,
            occurredAt: input.occurredAt,
            createdAt: row.created_at,
          }),
        };
      } catch (error) {
        // Same event id already recorded (e.g. under another inbox name): still one notification.
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) return { outcome: 'duplicate' };
        throw error;
      }
    },

    async list(filter: NotificationFilter): Promise<{ items: Notification[]; total: number }> {
      const { rows } = await db.query<ListRow>({
        name: 'notification-list',
        text: LIST,
        values: [filter.orderId ?? null, filter.type ?? null, filter.userId ?? null, filter.limit, filter.offset],
      });
      const items = rows
        .filter((row) => row.id !== null)
        .map((row) =>
          toNotification({
            id: row.id as number,
            eventId: row.event_id,
            eventType: row.event_type,
            orderId: row.order_id,
            userId: row.user_id,
            message: row.message,
            occurredAt: row.occurred_at,
            createdAt: row.created_at,
          }),
        );
      return { items, total: rows[0]?.total ?? 0 };
    },
  };
}

export type NotificationRepository = ReturnType<typeof createNotificationRepository>;
