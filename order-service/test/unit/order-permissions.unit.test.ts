import { ORDER_STATUSES } from '@shop/contracts';
import { canSeeOrder, mayRequestStatus } from '../../src/domain/order-permissions';

const owner = { userId: 7, isAdmin: false };
const stranger = { userId: 8, isAdmin: false };
const admin = { userId: 1, isAdmin: true };
const order = { userId: 7 };

describe('who may see an order', () => {
  test('its owner sees it', () => expect(canSeeOrder(owner, order)).toBe(true));
  test('an admin sees anyone’s order', () => expect(canSeeOrder(admin, order)).toBe(true));
  test('another user does not see it', () => expect(canSeeOrder(stranger, order)).toBe(false));
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
