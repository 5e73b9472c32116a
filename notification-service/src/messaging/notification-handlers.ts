import type { AnyEvent } from '@shop/contracts';
import type { BatchHandler, EventHandlers, HandlerContext } from '@shop/platform';
import type { NotificationRepository } from '../db/notification-repository';
import { recordNotification, recordNotifications } from '../use-cases/record-notification';

/** Every order and inventory event becomes a notification; the handlers only dispatch. */
export function notificationHandlers(notifications: NotificationRepository): EventHandlers {
  const notify = (event: AnyEvent, context: HandlerContext) =>
    recordNotification(notifications, event, context);
  return {
    OrderCreated: notify,
    OrderStatusUpdated: notify,
    StockReserved: notify,
    StockReservationFailed: notify,
    StockReleased: notify,
  };
}

/** The events that arrive together, recorded in one transaction (the consumer's `batch`). */
export function notificationBatch(notifications: NotificationRepository, maxSize: number): BatchHandler {
  return { maxSize, handle: (batch) => recordNotifications(notifications, batch) };
}
