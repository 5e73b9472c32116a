import { z } from 'zod';
import { Id, PageQuery, Timestamp, listOf } from './common';
import { EVENT_TYPES, type EventType } from './events';

export const Notification = z.object({
  id: Id,
  event_id: z.uuid(),
  event_type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
  order_id: Id,
  user_id: Id.nullable(),
  message: z.string(),
  occurred_at: Timestamp,
  created_at: Timestamp,
});
export type Notification = z.infer<typeof Notification>;

export const ListNotificationsQuery = PageQuery.extend({
  order_id: z.string().regex(/^[1-9]\d{0,9}$/, 'must be a positive integer').transform(Number).pipe(Id).optional(),
  type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]).optional(),
});
export type ListNotificationsQuery = z.infer<typeof ListNotificationsQuery>;

export const NotificationList = listOf(Notification);
export type NotificationList = z.infer<typeof NotificationList>;
