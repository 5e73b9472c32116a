import type { ListNotificationsQuery, NotificationList } from '@shop/contracts';
import type { Identity } from '@shop/platform';
import type { NotificationRepository } from '../db/notification-repository';

/** A page of notifications: an admin sees every one, anyone else only those about themselves. */
export async function listNotifications(
  notifications: NotificationRepository,
  query: ListNotificationsQuery,
  caller: Identity,
): Promise<NotificationList> {
  const { items, total } = await notifications.list({
    orderId: query.order_id,
    type: query.type,
    userId: caller.isAdmin ? undefined : caller.userId,
    limit: query.limit,
    offset: query.offset,
  });
  return { items, total, limit: query.limit, offset: query.offset };
}
