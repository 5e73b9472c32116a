import { changedOrder, newOrder } from '../../src/domain/order-snapshot';
import { priceOrder } from '../../src/domain/pricing';

const priced = priceOrder([
  { productId: 1, productName: 'Mouse', unitPrice: '25.99', quantity: 2 },
  { productId: 2, productName: 'Keyboard', unitPrice: '153.5', quantity: 1 },
]);
const reserved = { orderId: 41, itemIds: [7, 8], at: new Date('2025-01-01T00:00:00.123Z') };

describe('the Order a placement or a change leaves, built without reading anything back', () => {
  test('a new order is pending, carries the reserved ids in line order and the database clock as both its times', () => {
    const order = newOrder(5, priced, reserved);

    expect(order).toEqual({
      id: 41,
      user_id: 5,
      status: 'pending',
      total_amount: '205.48',
      cancel_reason: null,
      items: [
        {
          id: 7,
          product_id: 1,
          product_name: 'Mouse',
          product_price: '25.99',
          quantity: 2,
          subtotal: '51.98',
        },
        {
          id: 8,
          product_id: 2,
          product_name: 'Keyboard',
          product_price: '153.50',
          quantity: 1,
          subtotal: '153.50',
        },
      ],
      created_at: '2025-01-01T00:00:00.123Z',
      updated_at: '2025-01-01T00:00:00.123Z',
    });
  });

  test('a new order refuses a reservation with fewer item ids than lines', () => {
    expect(() => newOrder(5, priced, { ...reserved, itemIds: [7] })).toThrow(RangeError);
  });

  test('a changed order has the new status, the cancel reason and the change time, and keeps everything else', () => {
    const order = newOrder(5, priced, reserved);
    const at = new Date('2025-01-02T00:00:00.000Z');

    const changed = changedOrder(
      order,
      {
        from: 'pending',
        to: 'cancelled',
        version: 1,
        cancelReason: 'insufficient_stock',
        reason: 'insufficient_stock',
      },
      at,
    );

    expect(changed).toEqual({
      ...order,
      status: 'cancelled',
      cancel_reason: 'insufficient_stock',
      updated_at: '2025-01-02T00:00:00.000Z',
    });
  });
});
