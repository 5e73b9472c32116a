import { QUEUES } from '@shop/contracts';
import {
  createConsumer,
  type BrokerConnection,
  type Consumer,
  type EventHandlers,
  type Logger,
} from '@shop/platform';
import type { Pool } from '../db/pg-pool';
import { cancelOrderForInsufficientStock } from '../use-cases/cancel-order-for-insufficient-stock';
import { recordInventoryEvent } from '../use-cases/record-inventory-event';

/** order-service.inventory: each handler only dispatches to its use case. */
export function inventoryHandlers(deps: { pool: Pool }): EventHandlers {
  return {
    StockReservationFailed: (event, { consumer }) => cancelOrderForInsufficientStock(deps, event, consumer),
    StockReserved: (event, { consumer }) => recordInventoryEvent(deps, event, consumer),
    StockReleased: (event, { consumer }) => recordInventoryEvent(deps, event, consumer),
  };
}

export function createInventoryConsumer(deps: {
  pool: Pool;
  connection: BrokerConnection;
  logger: Logger;
}): Consumer {
  return createConsumer({
    connection: deps.connection,
    queue: QUEUES.orderInventory,
    handlers: inventoryHandlers(deps),
    logger: deps.logger,
  });
}
