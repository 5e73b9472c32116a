import type { AnyEvent } from '@shop/contracts';
import type { EventHandlers, HandlerContext } from '@shop/platform';
import type { NotificationRepository } from '../db/notification-repository';
import { recordNotification } from '../use-cases/record-notification';

/** Every order and inventory event becomes a notification; the handlers only dispatch. */
export function notificationHandlers(notifications: NotificationRepository): EventHandlers {
  const notify = (event: AnyEvent, context: HandlerContext) => recordNotification(notifications, event, context);
  return {
    OrderCreated: notify,
    OrderStatusUpdated: notify,
    StockReserved: notify,
    StockReservationFailed: notify,
    StockReleased: notify,
  };
}
