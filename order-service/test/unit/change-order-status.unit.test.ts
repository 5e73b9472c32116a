import { buildEvent } from '@shop/platform';
import { cancelForInsufficientStock, changeOrderStatus } from '../../src/use-cases/change-order-status';
import { scriptedDatabase, shapeOf } from '../support/scripted-database';

const LOCKED_AT = new Date('2025-01-02T03:04:05.678Z');

/**
 * A status change against a scripted database: which statements it sends, one per round trip.
 * (That the lock serialises changes and the writes commit together is the integration tests' job.)
 */
function scripted(options: { firstDelivery?: boolean; rowStillLocked?: boolean } = {}) {
  return scriptedDatabase((sql) => {
    if (sql.includes('FROM shop_inbox_claim(')) {
      const firstDelivery = options.firstDelivery !== false;
      return { rows: [{ claimed: firstDelivery, in_order: true, seen: !firstDelivery }] };
    }
    if (sql.startsWith('with "locked"')) {
      const at = new Date('2025-01-01T00:00:00Z');
      return {
        rows: [
          {
            id: 5,
            user_id: 7,
            status: 'pending',
            total_amount: '10.00',
            cancel_reason: null,
            version: 0,
            created_at: at,
            updated_at: at,
            locked_at: LOCKED_AT,
          },
        ],
      };
    }
    if (sql.startsWith('select * from "order_items"')) {
      return {
        rows: [
          {
            id: 9,
            order_id: 5,
            product_id: 1,
            product_name: 'Mouse',
            product_price: '10.00',
            quantity: 1,
            subtotal: '10.00',
          },
        ],
      };
    }
    if (sql.includes('update "orders"')) return { rows: options.rowStillLocked === false ? [] : [{ id: 5 }] };
    return undefined;
  });
}

const stockReservationFailed = buildEvent({
  type: 'StockReservationFailed',
  source: '/product-service',
  subject: 5,
  sequence: 1,
  correlationId: 'corr-1',
  data: {
    order_id: 5,
    reason: 'insufficient_stock',
    shortages: [{ product_id: 1, requested: 1, available: 0 }],
  },
});

const LOCK_AND_LOAD = [
  expect.stringMatching(/^with "locked"/),
  expect.stringMatching(/^select \* from "order_items"/),
];
const CHANGE_WRITES = 'writeAll: insert into "outbox_events" + update "orders"';

describe('a status change in round trips', () => {
  test('a StockReservationFailed opens its transaction with the inbox claim, locks and loads, then writes the cancel and its event in one statement', async () => {
    const { db, statements } = scripted();

    const outcome = await cancelForInsufficientStock(
      { db },
      stockReservationFailed,
      { consumer: 'order-service.inventory', eventId: stockReservationFailed.id },
    );

    expect(outcome).toBe('applied');
    expect(statements.map(shapeOf)).toEqual([
      expect.stringMatching(/^BEGIN; SELECT claimed, in_order, seen FROM shop_inbox_claim\(/),
      ...LOCK_AND_LOAD,
      CHANGE_WRITES,
      'COMMIT',
    ]);
  });

  test('a redelivered StockReservationFailed finds its claim taken in the opening round trip and writes nothing', async () => {
    const { db, statements } = scripted({ firstDelivery: false });

    const outcome = await cancelForInsufficientStock(
      { db },
      stockReservationFailed,
      { consumer: 'order-service.inventory', eventId: stockReservationFailed.id },
    );

    // The load was sent behind the claim before its answer came back; nothing is written.
    expect(outcome).toBe('duplicate');
    expect(statements.map(shapeOf)).toEqual([
      expect.stringMatching(/^BEGIN; SELECT claimed, in_order, seen FROM shop_inbox_claim\(/),
      ...LOCK_AND_LOAD,
      'COMMIT',
    ]);
  });

  test('a PATCH opens with BEGIN alone, then locks, loads and writes as the saga does', async () => {
    const { db, statements } = scripted();

    await changeOrderStatus(
      { db },
      {
        actor: { userId: 1, isAdmin: true },
        orderId: 5,
        status: 'confirmed',
        context: { correlationId: 'c' },
      },
    );

    expect(statements.map(shapeOf)).toEqual(['BEGIN', ...LOCK_AND_LOAD, CHANGE_WRITES, 'COMMIT']);
  });

  test('the row and the OrderStatusUpdated carry the same updated_at: the clock read under the lock', async () => {
    const { db, statements, parameters } = scripted();

    const order = await changeOrderStatus(
      { db },
      {
        actor: { userId: 1, isAdmin: true },
        orderId: 5,
        status: 'confirmed',
        context: { correlationId: 'c' },
      },
    );

    const written = parameters[statements.findIndex((sql) => sql.includes('update "orders"'))]!;
    const event = written
      .filter((value): value is string => typeof value === 'string' && value.startsWith('{'))
      .map((json) => JSON.parse(json))
      .find((parsed) => parsed.type === 'OrderStatusUpdated');
    expect(order.updated_at).toBe(LOCKED_AT.toISOString());
    expect(event.data.updated_at).toBe(LOCKED_AT.toISOString());
    expect(written).toContain(LOCKED_AT.toISOString());
  });

  test('when the update finds the version moved under the lock, it fails and rolls back instead of committing the event', async () => {
    const { db, statements } = scripted({ rowStillLocked: false });

    await expect(
      changeOrderStatus(
        { db },
        {
          actor: { userId: 1, isAdmin: true },
          orderId: 5,
          status: 'confirmed',
          context: { correlationId: 'c' },
        },
      ),
    ).rejects.toThrow('changed underneath a held lock');

    expect(statements.at(-1)).toBe('ROLLBACK');
    expect(statements).not.toContain('COMMIT');
  });
});
