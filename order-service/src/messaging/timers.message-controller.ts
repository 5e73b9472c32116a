import { QUEUES } from '@shop/contracts';
import {
  createConsumer,
  type BrokerConnection,
  type Consumer,
  type Database,
  type EventHandlers,
  type Logger,
} from '@shop/platform';
import type { DB } from '../generated/database';
import { expirePendingOrder } from '../use-cases/change-order-status';

/** order-service.timers: the order service's own scheduled events; each handler only dispatches. */
export function timerHandlers(deps: { db: Database<DB> }): EventHandlers {
  return {
    OrderExpiryDue: (event, { claim }) => expirePendingOrder(deps, event, claim),
  };
}

/**
 * Timers come one per order, minutes apart, so two in flight are plenty; they share the service's
 * pool with the inventory consumer and HTTP (config.ts).
 */
const TIMERS_IN_FLIGHT = 2;

export function createTimerConsumer(deps: {
  db: Database<DB>;
  connection: BrokerConnection;
  logger: Logger;
}): Consumer {
  return createConsumer({
    connection: deps.connection,
    queue: QUEUES.orderTimers,
    handlers: timerHandlers(deps),
    logger: deps.logger,
    prefetch: TIMERS_IN_FLIGHT,
  });
}
