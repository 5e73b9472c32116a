import { ORDER_STATUSES, type OrderStatus } from '@shop/contracts';
import {
  canSeeOrder,
  INSUFFICIENT_STOCK,
  judgeStatusChange,
  mayRequestStatus,
  RESERVATION_EXPIRED,
  RESERVATION_EXPIRY,
  STOCK_SAGA,
} from '../../src/domain/order-permissions';

const owner = { userId: 7, isAdmin: false };
const stranger = { userId: 8, isAdmin: false };
const admin = { userId: 1, isAdmin: true };
const order = { userId: 7 };

describe('who may see an order', () => {
  test('its owner sees it', () => expect(canSeeOrder(owner, order)).toBe(true));
  test('an admin sees anyone’s order', () => expect(canSeeOrder(admin, order)).toBe(true));
  test('another user does not see it', () => expect(canSeeOrder(stranger, order)).toBe(false));
  test('the stock saga sees anyone’s order', () => expect(canSeeOrder(STOCK_SAGA, order)).toBe(true));
});

describe('who may ask for a status change', () => {
  test.each(ORDER_STATUSES.filter((status) => status !== 'cancelled'))(
    'the owner may not ask for %s',
    (status) => {
      expect(mayRequestStatus(owner, order, status)).toBe(false);
    },
  );

  test('the owner may ask for cancelled', () => {
    expect(mayRequestStatus(owner, order, 'cancelled')).toBe(true);
  });

  test.each(ORDER_STATUSES)('an admin may ask for %s', (status) => {
    expect(mayRequestStatus(admin, order, status)).toBe(true);
  });

  test.each(ORDER_STATUSES)('another user may not ask for %s', (status) => {
    expect(mayRequestStatus(stranger, order, status)).toBe(false);
  });
});

describe('judging a status change (who asks, from which status)', () => {
  const at = (status: OrderStatus) => ({ userId: 7, status, version: 2 });

  test.each(['pending', 'confirmed'] as OrderStatus[])('the owner may cancel a %s order', (status) => {
    expect(judgeStatusChange(owner, at(status), 'cancelled')).toMatchObject({ allowed: true });
  });

  test('the owner may not cancel a shipped order: the goods have left, so it is an invalid transition for them', () => {
    expect(judgeStatusChange(owner, at('shipped'), 'cancelled')).toEqual({
      allowed: false,
      code: 'invalid_status_transition',
      detail: expect.stringContaining('shipped'),
    });
  });

  test.each(['delivered', 'cancelled'] as OrderStatus[])(
    'the owner cancelling a %s order is an invalid transition',
    (status) => {
      expect(judgeStatusChange(owner, at(status), 'cancelled')).toMatchObject({
        allowed: false,
        code: 'invalid_status_transition',
      });
    },
  );

  test('the owner asking for anything but cancelled is forbidden, whatever the order status', () => {
    expect(judgeStatusChange(owner, at('pending'), 'confirmed')).toMatchObject({
      allowed: false,
      code: 'forbidden',
    });
  });

  test('another user is forbidden even to cancel a pending order', () => {
    expect(judgeStatusChange(stranger, at('pending'), 'cancelled')).toMatchObject({
      allowed: false,
      code: 'forbidden',
    });
  });

  test('an admin may cancel a shipped order', () => {
    expect(judgeStatusChange(admin, at('shipped'), 'cancelled')).toMatchObject({ allowed: true });
  });

  test('an admin may not make a transition the status machine forbids (delivered → shipped)', () => {
    expect(judgeStatusChange(admin, at('delivered'), 'shipped')).toMatchObject({
      allowed: false,
      code: 'invalid_status_transition',
    });
  });

  test('an allowed change says what to write: the next version, the reason kept on a cancelled order, and the reason the event carries', () => {
    expect(judgeStatusChange(owner, at('confirmed'), 'cancelled', 'changed my mind')).toEqual({
      allowed: true,
      change: {
        from: 'confirmed',
        to: 'cancelled',
        version: 3,
        cancelReason: 'changed my mind',
        reason: 'changed my mind',
      },
    });
  });

  test('a reason given with a change other than a cancellation goes to the event only, not to the order', () => {
    expect(judgeStatusChange(admin, at('pending'), 'confirmed', 'paid')).toEqual({
      allowed: true,
      change: { from: 'pending', to: 'confirmed', version: 3, cancelReason: null, reason: 'paid' },
    });
  });
});

describe('the stock saga cancelling an order it could not reserve stock for', () => {
  const at = (status: OrderStatus) => ({ userId: 7, status, version: 0 });

  test.each(['pending', 'confirmed', 'shipped'] as OrderStatus[])(
    'it may cancel a %s order, with its reason kept on the order',
    (status) => {
      expect(judgeStatusChange(STOCK_SAGA, at(status), 'cancelled', INSUFFICIENT_STOCK)).toEqual({
        allowed: true,
        change: {
          from: status,
          to: 'cancelled',
          version: 1,
          cancelReason: INSUFFICIENT_STOCK,
          reason: INSUFFICIENT_STOCK,
        },
      });
    },
  );

  test.each(['delivered', 'cancelled'] as OrderStatus[])(
    'a %s order may no longer be cancelled: an invalid transition',
    (status) => {
      expect(judgeStatusChange(STOCK_SAGA, at(status), 'cancelled', INSUFFICIENT_STOCK)).toMatchObject({
        allowed: false,
        code: 'invalid_status_transition',
      });
    },
  );

  test('it may ask for nothing but cancelled', () => {
    expect(judgeStatusChange(STOCK_SAGA, at('pending'), 'confirmed')).toMatchObject({
      allowed: false,
      code: 'forbidden',
    });
  });
});

describe('the reservation expiry cancelling an order still pending when its time is up', () => {
  const at = (status: OrderStatus) => ({ userId: 7, status, version: 2 });

  test('it cancels a pending order, with reason reservation_expired kept on the order', () => {
    expect(judgeStatusChange(RESERVATION_EXPIRY, at('pending'), 'cancelled', RESERVATION_EXPIRED)).toEqual({
      allowed: true,
      change: {
        from: 'pending',
        to: 'cancelled',
        version: 3,
        cancelReason: RESERVATION_EXPIRED,
        reason: RESERVATION_EXPIRED,
      },
    });
  });

  test.each(['confirmed', 'shipped', 'delivered', 'cancelled'] as OrderStatus[])(
    'a %s order is no longer pending and is left as it is',
    (status) => {
      expect(
        judgeStatusChange(RESERVATION_EXPIRY, at(status), 'cancelled', RESERVATION_EXPIRED),
      ).toMatchObject({
        allowed: false,
        code: 'invalid_status_transition',
      });
    },
  );
});
