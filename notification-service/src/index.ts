export { start, type RunningService, type StartOptions } from './server';
export { configShape, CONSUMER_TRANSACTIONS, type Config } from './config';
export { migrationsDir } from './db/migrations-dir';
export { createApp } from './app';
// What recording one notification sends, for the bench's raw baseline
// (bench/baselines/notification-inserts.ts): the service's own statements, so it cannot drift.
export { notificationHandlers } from './messaging/notification-handlers';
export {
  notificationOrderLock,
  notificationWrites,
  usersOfOrderQuery,
  type NotificationDb,
  type NewNotification,
} from './db/notification-repository';
export { notificationOf } from './use-cases/record-notification';
export { createNotificationRepository } from './db/notification-repository';
