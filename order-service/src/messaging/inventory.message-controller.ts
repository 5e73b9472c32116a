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
import { cancelForInsufficientStock } from '../use-cases/change-order-status';
import { recordInventoryEvent, recordInventoryEvents } from '../use-cases/record-inventory-event';

/** order-service.inventory: each handler only dispatches to its use case. */
export function inventoryHandlers(deps: { db: Database<DB> }): EventHandlers {
  return {
    StockReservationFailed: (event, { claim }) => cancelForInsufficientStock(deps, event, claim),
    StockReserved: (_event, { claim }) => recordInventoryEvent(deps, claim),
    StockReleased: (_event, { claim }) => recordInventoryEvent(deps, claim),
  };
}

/** Inventory events in flight (and so at most in one batch); its pool budget counts one connection each. */
const INVENTORY_PREFETCH = 10;

export function createInventoryConsumer(deps: {
  db: Database<DB>;
  connection: BrokerConnection;
  logger: Logger;
}): Consumer {
  return createConsumer({
    connection: deps.connection,
    queue: QUEUES.orderInventory,
    handlers: inventoryHandlers(deps),
    // The events recorded for the record alone that arrive together: one transaction for them all.
    batch: {
      maxSize: INVENTORY_PREFETCH,
      handles: ['StockReserved', 'StockReleased'],
      handle: (batch) =>
        recordInventoryEvents(
          deps,
          batch.map(({ context }) => context.claim),
        ),
    },
    prefetch: INVENTORY_PREFETCH,
    logger: deps.logger,
  });
}
