import type { AnyEvent } from '@shop/contracts';
import type { InboxClaim, Logger } from '@shop/platform';
import type { NewNotification, NotificationRepository } from '../db/notification-repository';
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
  const input = notificationOf(event);
  const result = await notifications.recordOnce(context.claim, input);
  if (result.outcome === 'applied') {
    context.logger.info(input.message, {
      notification_id: result.notification.id,
      event_type: event.type,
      user_id: result.notification.user_id,
    });
  }
  return result.outcome;
}

/** The notification an event becomes (its message rendered, its user if it names one). */
export function notificationOf(event: AnyEvent): NewNotification {
  return {
    eventType: event.type,
    orderId: event.data.order_id,
    userId: userIdOf(event),
    message: renderNotification(event),
    occurredAt: new Date(event.time),
  };
}
