import type { EventData, EventType, TypedEvent } from '@shop/contracts';
import { buildEvent } from '../messaging/build-event';

/**
 * The one factory for integration events in tests. Every event goes through the producers' own
 * `buildEvent`, so its payload is checked against the contract and a test can only build what a
 * service could publish; a test that needs an invalid event breaks a valid one on purpose.
 */

/** Envelope fields a test may pin; the rest is what the producer would write. */
export interface EnvelopeOverrides {
  id?: string;
  time?: string;
  sequence?: number;
  correlationId?: string;
  causationId?: string | null;
  traceparent?: string | null;
}

/** Who publishes each type, and the sequence it gives a first event of that type (SPEC §5). */
const PRODUCER: Record<EventType, { source: string; sequence: number }> = {
  OrderCreated: { source: '/order-service', sequence: 0 },
  OrderStatusUpdated: { source: '/order-service', sequence: 1 },
  StockReserved: { source: '/product-service', sequence: 1 },
  StockReservationFailed: { source: '/product-service', sequence: 1 },
  StockReleased: { source: '/product-service', sequence: 2 },
  OrderExpiryDue: { source: '/order-service/timers', sequence: 0 },
};

// A random start, so order ids from two test files sharing a service never collide.
let nextOrderId = 1_000 + Math.floor(Math.random() * 1_000_000);
/** A fresh order id per call, so tests never share an order. */
export const newOrderId = (): number => nextOrderId++;

/** Any event type with its producer as source, the order as subject and a correlation id per order. */
export function buildTestEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  envelope: EnvelopeOverrides = {},
): TypedEvent<T> {
  const orderId = (data as { order_id: number }).order_id;
  return buildEvent({
    type,
    source: PRODUCER[type].source,
    subject: orderId,
    data,
    sequence: envelope.sequence ?? PRODUCER[type].sequence,
    correlationId: envelope.correlationId ?? `corr-${orderId}`,
    causationId: envelope.causationId,
    traceparent: envelope.traceparent,
    id: envelope.id,
    time: envelope.time,
  });
}

/** An order line: name and price default, the subtotal is price × quantity unless given. */
export interface OrderLine {
  product_id: number;
  quantity: number;
  product_name?: string;
  product_price?: string;
  subtotal?: string;
}

type OrderCreatedOverrides = Partial<Omit<EventData<'OrderCreated'>, 'items'>> & { items?: OrderLine[] };

/** The seed order: 2 × Wireless Mouse at 25.99 and 1 × Mechanical Keyboard at 153.50, total 205.48. */
const SEED_LINES: OrderLine[] = [
  { product_id: 1, product_name: 'Wireless Mouse', product_price: '25.99', quantity: 2 },
  { product_id: 2, product_name: 'Mechanical Keyboard', product_price: '153.50', quantity: 1 },
];

/** An OrderCreated whose total is the sum of its lines unless `total_amount` is given. */
export function buildOrderCreated(
  overrides: OrderCreatedOverrides = {},
  envelope: EnvelopeOverrides = {},
): TypedEvent<'OrderCreated'> {
  const { items: lines = SEED_LINES, ...rest } = overrides;
  const items = lines.map((line) => {
    const product_price = line.product_price ?? '10.00';
    return {
      product_id: line.product_id,
      product_name: line.product_name ?? `Product ${line.product_id}`,
      product_price,
      quantity: line.quantity,
      subtotal: line.subtotal ?? fromCents(toCents(product_price) * line.quantity),
    };
  });
  return buildTestEvent(
    'OrderCreated',
    {
      order_id: newOrderId(),
      user_id: 42,
      status: 'pending',
      total_amount: fromCents(items.reduce((sum, item) => sum + toCents(item.subtotal), 0)),
      items,
      created_at: new Date().toISOString(),
      ...rest,
    },
    envelope,
  );
}

export const buildOrderStatusUpdated = (
  overrides: Partial<EventData<'OrderStatusUpdated'>> = {},
  envelope: EnvelopeOverrides = {},
): TypedEvent<'OrderStatusUpdated'> =>
  buildTestEvent(
    'OrderStatusUpdated',
    {
      order_id: newOrderId(),
      user_id: 42,
      from_status: 'pending',
      to_status: 'confirmed',
      reason: overrides.to_status === 'cancelled' ? 'changed my mind' : null,
      updated_at: new Date().toISOString(),
      ...overrides,
    },
    envelope,
  );

export const buildStockReserved = (
  overrides: Partial<EventData<'StockReserved'>> = {},
  envelope: EnvelopeOverrides = {},
): TypedEvent<'StockReserved'> =>
  buildTestEvent(
    'StockReserved',
    {
      order_id: newOrderId(),
      items: [
        { product_id: 1, quantity: 2 },
        { product_id: 2, quantity: 1 },
      ],
      ...overrides,
    },
    envelope,
  );

export const buildStockReservationFailed = (
  overrides: Partial<EventData<'StockReservationFailed'>> = {},
  envelope: EnvelopeOverrides = {},
): TypedEvent<'StockReservationFailed'> =>
  buildTestEvent(
    'StockReservationFailed',
    {
      order_id: newOrderId(),
      reason: 'insufficient_stock',
      shortages: [{ product_id: 3, requested: 10, available: 5 }],
      ...overrides,
    },
    envelope,
  );

export const buildStockReleased = (
  overrides: Partial<EventData<'StockReleased'>> = {},
  envelope: EnvelopeOverrides = {},
): TypedEvent<'StockReleased'> =>
  buildTestEvent(
    'StockReleased',
    { order_id: newOrderId(), items: [{ product_id: 1, quantity: 2 }], ...overrides },
    envelope,
  );

// Money stays in whole cents here, as in the services: never a float.
const toCents = (money: string): number => {
  const [units, cents] = money.replace('-', '').split('.');
  const amount = Number(units) * 100 + Number(cents);
  return money.startsWith('-') ? -amount : amount;
};
const fromCents = (cents: number): string =>
  `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
