import { EVENT_DATA } from '@shop/contracts';
import {
  buildOrderCreated,
  buildOrderStatusUpdated,
  buildStockReleased,
  buildStockReservationFailed,
  buildStockReserved,
} from '../../src/testing';

describe('the test event factory', () => {
  test.each([
    ['OrderCreated', buildOrderCreated],
    ['OrderStatusUpdated', buildOrderStatusUpdated],
    ['StockReserved', buildStockReserved],
    ['StockReservationFailed', buildStockReservationFailed],
    ['StockReleased', buildStockReleased],
  ] as const)(
    'a default %s meets its contract, with its producer as source and its order as subject',
    (type, build) => {
      // Act
      const event = build();

      // Assert
      expect(event.type).toBe(type);
      expect(EVENT_DATA[type].safeParse(event.data).success).toBe(true);
      expect(event.subject).toBe(String(event.data.order_id));
      expect(event.source).toBe(type.startsWith('Order') ? '/order-service' : '/product-service');
    },
  );

  test('an OrderCreated totals its lines, priced in cents, unless the total is given', () => {
    // Act
    const event = buildOrderCreated({
      items: [
        { product_id: 7, quantity: 3, product_price: '0.10' },
        { product_id: 8, quantity: 1, product_price: '19.99' },
      ],
    });

    // Assert
    expect(event.data.items.map((item) => item.subtotal)).toEqual(['0.30', '19.99']);
    expect(event.data.total_amount).toBe('20.29');
    expect(buildOrderCreated().data.total_amount).toBe('205.48');
  });

  test('an override the contract forbids fails at once instead of building an invalid event', () => {
    expect(() => buildOrderCreated({ total_amount: '20' })).toThrow(/total_amount/);
  });

  test('two events built without an order id are about two different orders', () => {
    expect(buildStockReserved().data.order_id).not.toBe(buildStockReserved().data.order_id);
  });
});
