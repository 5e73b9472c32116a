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
  // `timer.`, not `order.`: no subscriber of order.# receives the order service's own timers.
  OrderExpiryDue: { exchange: EXCHANGES.orders, routingKey: 'timer.order.expiry_due' },
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
  /** The order service's timers (scheduled outbox rows published when due): reservation expiry. */
  orderTimers: {
    name: 'order-service.timers',
    bindings: [{ exchange: EXCHANGES.orders, routingKey: 'timer.order.#' }],
  },
  notificationEvents: {
    name: 'notification-service.events',
    bindings: [
      { exchange: EXCHANGES.orders, routingKey: 'order.#' },
      { exchange: EXCHANGES.inventory, routingKey: 'stock.#' },
    ],
  },
} as const satisfies Record<string, QueueSpec>;

/** Queues of a service's own timers: declared like the others, not part of the documented interface (SPEC §5). */
export const INTERNAL_QUEUES: readonly string[] = [QUEUES.orderTimers.name];
/** The queues of SPEC §5, which the AsyncAPI document describes. */
export const INTEGRATION_QUEUES: QueueSpec[] = Object.values(QUEUES).filter(
  (queue) => !INTERNAL_QUEUES.includes(queue.name),
);

export const deadLetterQueueOf = (queue: string) => `${queue}.dlq`;
