export type { BackoffOptions } from './backoff';
export { buildEvent, type BuildEventInput } from './build-event';
export {
  brokerUrls,
  createBrokerConnection,
  type BrokerConnection,
  type BrokerConnectionOptions,
} from './broker-connection';
export {
  createConsumer,
  logFieldsOf,
  PermanentHandlerError,
  type BatchedEvent,
  type BatchHandler,
  type Consumer,
  type ConsumerOptions,
  type EventHandler,
  type EventHandlers,
  type HandlerContext,
  type HandlerOutcome,
} from './consumer';
export { decodeMessage, type DecodedMessage } from './decode-message';
export {
  claimInbox,
  claimStatement,
  claimsStatement,
  EventOutOfOrderError,
  inTransactionOnce,
  inTransactionOnceEach,
  isEventOutOfOrder,
  placeOf,
  type EachMessage,
  type EventPlace,
  type InboxClaim,
  type InboxTable,
} from './inbox';
export {
  BrokerUnavailableError,
  createOutboxRelay,
  RELAY_DEFAULTS,
  type OutboxRelay,
  type OutboxRelayOptions,
} from './outbox-relay';
export {
  appendToOutbox,
  outboxRow,
  outboxWrite,
  scheduleWrite,
  type OutboxTable,
  type ScheduledEventsTable,
} from './outbox-writer';
export { runOutboxRelay, type RelayRunnerOptions } from './relay-runner';
export {
  createServiceMessaging,
  type ServiceMessaging,
  type ServiceMessagingOptions,
} from './service-messaging';
export { declareTopology, DELIVERY_LIMIT } from './topology';
