import type { EventType } from './events';

/** Exchanges, routing keys and queues (SPEC §5): the one place their names are spelled. */
export const EXCHANGES = {
  orders: 'orders',
  inventory: 'inventory',
  deadLetter: 'dlx',
} as const;

export const ROUTES: Record<EventType, { exchange: string; routingKey: string }> = {
  OrderCreated: { exchange: EXCHANGES.orders, routingKey: 'order.created' },
  OrderStatusUpdated: { exchange: EXCHANGES.orders, routingKey: 'order.status_updated' },
  StockReserved: { exchange: EXCHANGES.inventory, routingKey: 'stock.reserved' },
  StockReservationFailed: { exchange: EXCHANGES.inventory, routingKey: 'stock.reservation_failed' },
  StockReleased: { exchange: EXCHANGES.inventory, routingKey: 'stock.released' },
};

export interface QueueSpec {
  name: string;
  bindings: { exchange: string; routingKey: string }[];
}

export const QUEUES = {
  productOrders: {
    name: 'product-service.orders',
    bindings: [
      { exchange: EXCHANGES.orders, routingKey: 'order.created' },
      { exchange: EXCHANGES.orders, routingKey: 'order.status_updated' },
    ],
  },
  orderInventory: {
    name: 'order-service.inventory',
    bindings: [{ exchange: EXCHANGES.inventory, routingKey: 'stock.#' }],
  },
  notificationEvents: {
    name: 'notification-service.events',
    bindings: [
      { exchange: EXCHANGES.orders, routingKey: 'order.#' },
      { exchange: EXCHANGES.inventory, routingKey: 'stock.#' },
    ],
  },
} as const satisfies Record<string, QueueSpec>;

export const deadLetterQueueOf = (queue: string) => `${queue}.dlq`;
