import type { AnyEvent } from '@shop/contracts';
import type { InboxClaim, Logger } from '@shop/platform';
import type { NewNotification, NotificationRepository, RecordOutcome } from '../db/notification-repository';
import { renderNotification, userIdOf } from '../domain/notification-message';

/** An event to record, with its inbox claim and the logger that carries its ids. */
export interface EventToRecord {
  event: AnyEvent;
  context: { claim: InboxClaim; logger: Logger };
}

/**
 * Turns one event into one notification: renders its message, records it (exactly once per
 * event id, with the inbox row) and logs the message as a readable line. A duplicate delivery
 * records and logs nothing.
 */
export async function recordNotification(
  notifications: NotificationRepository,
  event: AnyEvent,
  context: EventToRecord['context'],
): Promise<'applied' | 'duplicate'> {
  const input = notificationOf(event);
  const result = await notifications.recordOnce(context.claim, input);
  return logged({ event, context }, input, result);
}

/**
 * `recordNotification` for events that arrived together: one transaction for all of them, all or
 * nothing (see `recordEachOnce`); each applied one logs its line once that transaction committed.
 */
export async function recordNotifications(
  notifications: NotificationRepository,
  events: readonly EventToRecord[],
): Promise<('applied' | 'duplicate')[]> {
  const inputs = events.map(({ event }) => notificationOf(event));
  const results = await notifications.recordEachOnce(
    events.map(({ context }, index) => ({ claim: context.claim, input: inputs[index] })),
  );
  return results.map((result, index) => logged(events[index], inputs[index], result));
}

function logged(
  { event, context }: EventToRecord,
  input: NewNotification,
  result: RecordOutcome,
): 'applied' | 'duplicate' {
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
