import { renderNotification, userIdOf } from '../../src/domain/notification-message';
import {
  buildOrderCreated,
  buildOrderStatusUpdated,
  buildStockReleased,
  buildStockReservationFailed,
  buildStockReserved,
} from '@shop/platform/testing';

describe('notification message', () => {
  it('an OrderCreated reads "Order #12 for user 42 created: 2 items, total 205.48"', () => {
    // Given
    const event = buildOrderCreated({ order_id: 12, user_id: 42 });

    // When
    const message = renderNotification(event);

    // Then
    expect(message).toBe('Order #12 for user 42 created: 2 items, total 205.48');
  });

  it('an OrderCreated with a single line says "1 item"', () => {
    const event = buildOrderCreated({
      order_id: 5,
      user_id: 7,
      total_amount: '51.98',
      items: [{ product_id: 1, product_name: 'Wireless Mouse', product_price: '25.99', quantity: 2, subtotal: '51.98' }],
    });

    expect(renderNotification(event)).toBe('Order #5 for user 7 created: 1 item, total 51.98');
  });

  it('an OrderStatusUpdated reads "Order #12 status pending → confirmed"', () => {
    const event = buildOrderStatusUpdated({ order_id: 12, from_status: 'pending', to_status: 'confirmed', reason: null });

    expect(renderNotification(event)).toBe('Order #12 status pending → confirmed');
  });

  it('an OrderStatusUpdated with a reason names it', () => {
    const event = buildOrderStatusUpdated({ order_id: 12, from_status: 'pending', to_status: 'cancelled', reason: 'insufficient_stock' });

    expect(renderNotification(event)).toBe('Order #12 status pending → cancelled (reason: insufficient_stock)');
  });

  it('a StockReserved reads "Stock reserved for order #12: 2 items"', () => {
    const event = buildStockReserved({ order_id: 12 });

    expect(renderNotification(event)).toBe('Stock reserved for order #12: 2 items');
  });

  it('a StockReservationFailed names the short product with requested and available', () => {
    const event = buildStockReservationFailed({ order_id: 12, shortages: [{ product_id: 3, requested: 10, available: 5 }] });

    expect(renderNotification(event)).toBe(
      'Stock reservation failed for order #12: product 3 short (requested 10, available 5)',
    );
  });

  it('a StockReservationFailed with several shortages lists each of them', () => {
    const event = buildStockReservationFailed({
      order_id: 12,
      shortages: [
        { product_id: 3, requested: 10, available: 5 },
        { product_id: 4, requested: 2, available: 0 },
      ],
    });

    expect(renderNotification(event)).toBe(
      'Stock reservation failed for order #12: product 3 short (requested 10, available 5); product 4 short (requested 2, available 0)',
    );
  });

  it('a StockReservationFailed without shortages gives its reason', () => {
    const event = buildStockReservationFailed({ order_id: 12, reason: 'order_cancelled', shortages: [] });

    expect(renderNotification(event)).toBe('Stock reservation failed for order #12: order_cancelled');
  });

  it('a StockReleased reads "Stock released for order #12"', () => {
    const event = buildStockReleased({ order_id: 12 });

    expect(renderNotification(event)).toBe('Stock released for order #12');
  });

  it('order events carry their user; inventory events leave it to the caller', () => {
    expect(userIdOf(buildOrderCreated({ user_id: 42 }))).toBe(42);
    expect(userIdOf(buildOrderStatusUpdated({ user_id: 9 }))).toBe(9);
    expect(userIdOf(buildStockReserved())).toBeUndefined();
    expect(userIdOf(buildStockReservationFailed())).toBeUndefined();
    expect(userIdOf(buildStockReleased())).toBeUndefined();
  });
});
