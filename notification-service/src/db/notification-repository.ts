import type { EventType, Notification } from '@shop/contracts';
import {
  commitWith,
  inTransactionOnce,
  inTransactionOnceEach,
  type Database,
  type InboxClaim,
} from '@shop/platform';
import type { Selectable } from 'kysely';
import { decideNotificationUser } from '../domain/notification-user';
import type { DB } from '../generated/database';

export type NotificationDb = Database<DB>;

/** The one mapper from a database row to the contract's Notification. */
export const toNotification = (row: Selectable<DB['notifications']>): Notification => ({
  id: row.id,
  event_id: row.event_id,
  event_type: row.event_type as EventType,
  order_id: row.order_id,
  user_id: row.user_id,
  message: row.message,
  occurred_at: row.occurred_at.toISOString(),
  created_at: row.created_at.toISOString(),
});

export interface NewNotification {
  eventType: EventType;
  orderId: number;
  /** `undefined`: the event names no user (see decideNotificationUser). */
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

export type RecordOutcome = { outcome: 'applied'; notification: Notification } | { outcome: 'duplicate' };

/** Advisory-lock key space for "one order at a time" (the second key is the order id). */
const ORDER_LOCK_SPACE = 4_004;

const UNIQUE_VIOLATION = '23505';

/** The advisory lock under which one order's events are recorded one at a time. */
export const notificationOrderLock = (orderId: number) => [ORDER_LOCK_SPACE, orderId] as const;

/** The users of an order's notifications so far, oldest first: what `recordOnce` decides on. Built but not run. */
export const usersOfOrderQuery = (tx: NotificationDb, orderId: number) =>
  tx.selectFrom('notifications').select('user_id').where('order_id', '=', orderId).orderBy('id');

/**
 * What recording a notification writes, built but not run: the row (`insert`, which returns it) and,
 * when this event names the user the order's earlier notifications lack, their back-fill (`writes`).
 * `recordOnce` sends them with its COMMIT; the bench's raw baseline sends these very statements.
 */
export function notificationWrites(
  tx: NotificationDb,
  eventId: string,
  input: NewNotification,
  recorded: readonly { user_id: number | null }[],
) {
  const user = decideNotificationUser(
    input.userId,
    recorded.map((row) => row.user_id),
  );
  const insert = tx
    .insertInto('notifications')
    .values({
      event_id: eventId,
      event_type: input.eventType,
      order_id: input.orderId,
      user_id: user.userId,
      message: input.message,
      occurred_at: input.occurredAt,
    })
    .returningAll();
  // One statement, one snapshot: the back-fill cannot see the row being inserted, and
  // need not — that row already carries the user it hands to the order's earlier ones.
  const backfill = tx
    .updateTable('notifications')
    .set({ user_id: user.userId })
    .where('order_id', '=', input.orderId)
    .where('user_id', 'is', null);
  return { writes: user.backfill ? [backfill] : [], insert };
}

/** One event to record: its inbox claim and the notification it becomes. */
export interface ToRecord {
  claim: InboxClaim;
  input: NewNotification;
}

/** The outcome of an event whose notification was inserted as `row`. */
function applied(claim: InboxClaim, row: Selectable<DB['notifications']> | undefined): RecordOutcome {
  if (!row) throw new Error(`notification of event ${claim.eventId} was not inserted`);
  return { outcome: 'applied', notification: toNotification(row) };
}

export function createNotificationRepository(db: NotificationDb) {
  return {
    /**
     * Records the event in the inbox and its notification in one transaction: both commit or
     * neither does, and an event id this consumer has seen before records nothing.
     */
    async recordOnce(claim: InboxClaim, input: NewNotification): Promise<RecordOutcome> {
      try {
        // Events of one order are recorded one at a time (the order's advisory lock, taken with
        // BEGIN and the inbox claim in one round trip): an inventory event consumed alongside its
        // OrderCreated then either sees the user it names, or is there for its back-fill to find.
        const outcome = await inTransactionOnce(
          db,
          claim,
          {
            advisoryLock: notificationOrderLock(input.orderId),
            load: (tx) => usersOfOrderQuery(tx, input.orderId).execute(),
          },
          async (tx, recorded): Promise<RecordOutcome> => {
            const { writes, insert } = notificationWrites(tx, claim.eventId, input, recorded);
            const [row] = await commitWith(tx, writes, insert);
            return applied(claim, row);
          },
        );
        return outcome === 'duplicate' ? { outcome: 'duplicate' } : outcome;
      } catch (error) {
        // Same event id already recorded (e.g. under another inbox name): still one notification.
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) return { outcome: 'duplicate' };
        throw error;
      }
    },

    /**
     * `recordOnce` for several events in one transaction, in the order given (an order's later event
     * sees the notifications of its earlier ones), all or nothing: any failure — a duplicate event id
     * under another inbox name included — throws and records none, and the caller records them one
     * at a time instead.
     */
    async recordEachOnce(events: readonly ToRecord[]): Promise<RecordOutcome[]> {
      const outcomes = await inTransactionOnceEach(db, events, {
        claim: (event) => event.claim,
        advisoryLock: (event) => notificationOrderLock(event.input.orderId),
        load: (tx, event) => usersOfOrderQuery(tx, event.input.orderId),
        write: (tx, { claim, input }, recorded) => {
          const { writes, insert } = notificationWrites(tx, claim.eventId, input, recorded);
          return { writes, returning: insert };
        },
      });
      return outcomes.map((rows, index) =>
        rows === 'duplicate' ? { outcome: 'duplicate' } : applied(events[index].claim, rows[0]),
      );
    },

    /** A page in the order things happened, and how many match in all. */
    async list(filter: NotificationFilter): Promise<{ items: Notification[]; total: number }> {
      const rows = await matching(db, filter)
        .selectAll()
        .select((eb) => eb.cast<number>(eb.fn.countAll().over(), 'integer').as('total'))
        .orderBy('occurred_at')
        .orderBy('id')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute();
      const items = rows.map(({ total: _total, ...row }) => toNotification(row));
      // Every row of the page carries the count of all matches; a page past the end has no row to
      // carry it, so only then is it counted on its own.
      const total = rows[0]?.total ?? (filter.offset > 0 ? await countMatching(db, filter) : 0);
      return { items, total };
    },
  };
}

export type NotificationRepository = ReturnType<typeof createNotificationRepository>;

function matching(db: NotificationDb, filter: NotificationFilter) {
  let query = db.selectFrom('notifications');
  if (filter.orderId !== undefined) query = query.where('order_id', '=', filter.orderId);
  if (filter.type !== undefined) query = query.where('event_type', '=', filter.type);
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
  return query;
}

async function countMatching(db: NotificationDb, filter: NotificationFilter): Promise<number> {
  const { total } = await matching(db, filter)
    .select((eb) => eb.cast<number>(eb.fn.countAll(), 'integer').as('total'))
    .executeTakeFirstOrThrow();
  return total;
}
