import { randomUUID } from 'node:crypto';
import type { EventData, EventType, TypedEvent } from '@shop/contracts';
import { buildEvent } from '@shop/platform';

let nextOrderId = 1_000 + Math.floor(Math.random() * 1_000_000);
/** A fresh order id per call, so tests never share an order. */
export const newOrderId = () => nextOrderId++;

const SOURCES: Record<EventType, string> = {
  OrderCreated: '/order-service',
  OrderStatusUpdated: '/order-service',
  StockReserved: '/product-service',
  StockReservationFailed: '/product-service',
  StockReleased: '/product-service',
};

/** An event as its producer would build it (platform builder, contract-checked). */
export function buildTestEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  overrides: { id?: string; time?: string; sequence?: number } = {},
): TypedEvent<T> {
  const orderId = (data as { order_id: number }).order_id;
  return buildEvent({
    type,
    source: SOURCES[type],
    subject: orderId,
    data,
    sequence: overrides.sequence ?? 1,
    correlationId: randomUUID(),
    id: overrides.id,
    time: overrides.time,
  });
}

export const buildOrderCreated = (overrides: Partial<EventData<'OrderCreated'>> = {}) =>
  buildTestEvent('OrderCreated', {
    order_id: newOrderId(),
    user_id: 42,
    status: 'pending',
    total_amount: '205.48',
    items: [
      { product_id: 1, product_name: 'Wireless Mouse', product_price: '25.99', quantity: 2, subtotal: '51.98' },
      { product_id: 2, product_name: 'Mechanical Keyboard', product_price: '153.50', quantity: 1, subtotal: '153.50' },
    ],
    created_at: new Date().toISOString(),
    ...overrides,
  });

export const buildOrderStatusUpdated = (overrides: Partial<EventData<'OrderStatusUpdated'>> = {}) =>
  buildTestEvent('OrderStatusUpdated', {
    order_id: newOrderId(),
    user_id: 42,
    from_status: 'pending',
    to_status: 'confirmed',
    reason: null,
    updated_at: new Date().toISOString(),
    ...overrides,
  });

export const buildStockReserved = (overrides: Partial<EventData<'StockReserved'>> = {}) =>
  buildTestEvent('StockReserved', {
    order_id: newOrderId(),
    items: [
      { product_id: 1, quantity: 2 },
      { product_id: 2, quantity: 1 },
    ],
    ...overrides,
  });

export const buildStockReservationFailed = (overrides: Partial<EventData<'StockReservationFailed'>> = {}) =>
  buildTestEvent('StockReservationFailed', {
    order_id: newOrderId(),
    reason: 'insufficient_stock',
    shortages: [{ product_id: 3, requested: 10, available: 5 }],
    ...overrides,
  });

export const buildStockReleased = (overrides: Partial<EventData<'StockReleased'>> = {}) =>
  buildTestEvent('StockReleased', {
    order_id: newOrderId(),
    items: [{ product_id: 1, quantity: 2 }],
    ...overrides,
  });

export const newEventId = () => randomUUID();
