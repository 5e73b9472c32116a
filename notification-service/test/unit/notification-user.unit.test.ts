import { decideNotificationUser } from '../../src/domain/notification-user';

describe('who a notification is about', () => {
  it('an event that names its user is about that user', () => {
    expect(decideNotificationUser(42, [])).toEqual({ userId: 42, backfill: false });
  });

  it('an event that names no user is about the user the order already has', () => {
    expect(decideNotificationUser(undefined, [42, 42])).toEqual({ userId: 42, backfill: false });
  });

  it('an event that names no user, on an order whose first notifications had none, takes the first user named since', () => {
    expect(decideNotificationUser(undefined, [null, 7, 9])).toEqual({ userId: 7, backfill: false });
  });

  it('an event that names no user, for an order nobody has named a user for, is about nobody yet', () => {
    expect(decideNotificationUser(undefined, [])).toEqual({ userId: null, backfill: false });
    expect(decideNotificationUser(undefined, [null])).toEqual({ userId: null, backfill: false });
  });

  it("an event that names its user hands it to the order's notifications recorded without one", () => {
    expect(decideNotificationUser(77, [null, null])).toEqual({ userId: 77, backfill: true });
  });

  it('an event that names its user back-fills nothing when every notification of the order has one', () => {
    expect(decideNotificationUser(77, [77])).toEqual({ userId: 77, backfill: false });
  });
});
