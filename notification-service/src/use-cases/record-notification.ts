import type { AnyEvent } from '@shop/contracts';
import type { InboxClaim, Logger } from '@shop/platform';
import type { NotificationRepository } from '../db/notification-repository';
import { renderNotification, userIdOf } from '../domain/notification-message';

/**
 * Turns one event into one notification: renders its message, records it (exactly once per
 * event id, with the inbox row) and logs the message as a readable line. A duplicate delivery
 * records and logs nothing.
 */
export async function recordNotification(
  notifications: NotificationRepository,
  event: AnyEvent,
  context: { claim: InboxClaim; logger: Logger },
): Promise<'applied' | 'duplicate'> {
  const message = renderNotification(event);
  const result = await notifications.recordOnce(context.claim, {
    eventType: event.type,
    orderId: event.data.order_id,
    userId: userIdOf(event),
    message,
    occurredAt: new Date(event.time),
  });
  if (result.outcome === 'applied') {
    context.logger.info(message, {
      notification_id: result.notification.id,
      event_type: event.type,
      user_id: result.notification.user_id,
    });
  }
  return result.outcome;
}
