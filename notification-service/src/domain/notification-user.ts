/** Who a new notification is about, and whether the order's earlier ones learn it too. */
export interface UserDecision {
  userId: number | null;
  /** The order has notifications recorded before anyone named its user, and this event names one. */
  backfill: boolean;
}

/**
 * Inventory events carry no user, and one may be consumed before its order's OrderCreated. So a
 * notification is about the event's own user, else the one the order's first notification that
 * named a user names, else nobody yet; and an event that names the user hands it to the order's
 * notifications still without one.
 *
 * @param named the event's user (`undefined` when the event names none)
 * @param recorded the users of the order's notifications recorded so far, oldest first
 */
export function decideNotificationUser(
  named: number | undefined,
  recorded: ReadonlyArray<number | null>,
): UserDecision {
  if (named !== undefined) return { userId: named, backfill: recorded.includes(null) };
  return { userId: recorded.find((userId) => userId !== null) ?? null, backfill: false };
}
