import type { AnyEvent, Order, OrderStatus } from '@shop/contracts';
import { OUTBOX_COLUMNS, outboxPlaceholders, outboxRow } from '@shop/platform';
import type { PoolClient } from 'pg';
import type { PricedOrder } from '../domain/pricing';
import type { IdempotencyClaim } from './idempotency-repository';
import type { Pool } from './pg-pool';
import type { LockedOrder } from './order-repository';

/** Our Idempotency-Key claim was taken over (after its TTL) while we worked: nothing was written. */
export class IdempotencyClaimLost extends Error {}

const DIVISION_BY_ZERO = '22012';

/** What the order row's insert needs besides the priced order: reserved ids and the insert time. */
export interface ReservedOrder {
  id: number;
  itemIds: number[];
  createdAt: Date;
}

/**
 * The hot write path of POST /orders over `pg`: two round trips, no interactive transaction.
 * First the ids (order + items) and the database's clock, so the caller can build the contract
 * `Order` and its OrderCreated event without reading anything back; then ONE statement writes the
 * order, its items, the outbox row and (with an Idempotency-Key) the stored response — a single
 * statement commits all of it or nothing.
 */
export function createOrderWriter(pool: Pool) {
  return {
    async reserve(itemCount: number): Promise<ReservedOrder> {
      const { rows } = await pool.query<{ id: number; item_ids: number[]; now: Date }>({
        name: 'order_reserve_ids',
        text: `SELECT nextval('orders_id_seq')::int AS id,
                      ARRAY(SELECT nextval('order_items_id_seq')::int FROM generate_series(1, $1::int)) AS item_ids,
                      now() AS now`,
        values: [itemCount],
      });
      const row = rows[0]!;
      return { id: row.id, itemIds: row.item_ids, createdAt: row.now };
    },

    /**
     * Writes the order (already contract-shaped, ids from `reserve`), its items and its event; with
     * `claim`, marks the Idempotency-Key done with the response in the same statement — and if the
     * claim is no longer ours, the statement fails (1 / 0) so nothing at all is written.
     */
    async insert(
      order: Order,
      priced: PricedOrder,
      event: AnyEvent,
      claim?: IdempotencyClaim,
    ): Promise<void> {
      const values: unknown[] = [
        order.id,
        order.user_id,
        order.status,
        priced.totalAmount,
        order.created_at,
        order.items.map((item) => item.id),
        order.items.map((item) => item.product_id),
        order.items.map((item) => item.product_name),
        order.items.map((item) => item.product_price),
        order.items.map((item) => item.quantity),
        order.items.map((item) => item.subtotal),
        ...outboxRow(event, 'order'),
      ];
      let claimSql = '';
      let check = '';
      if (claim) {
        values.push(claim.userId, claim.key, JSON.stringify(order), claim.token);
        claimSql = `, k AS (
          UPDATE idempotency_keys
             SET status = 'done', response_status = 201, response_body = $23::jsonb, order_id = $1
           WHERE user_id = $21 AND key = $22 AND status = 'in_flight' AND created_at = $24::timestamptz
          RETURNING 1)`;
        check = ', 1 / (SELECT count(*)::int FROM k) AS claimed';
      }
      try {
        await pool.query({
          name: claim ? 'order_insert_idempotent' : 'order_insert',
          text: `WITH o AS (
              INSERT INTO orders (id, user_id, status, total_amount, created_at, updated_at)
              VALUES ($1, $2, $3, $4::numeric, $5::timestamptz, $5::timestamptz)
              RETURNING id),
            i AS (
              INSERT INTO order_items (id, order_id, product_id, product_name, product_price, quantity, subtotal)
              SELECT t.id, o.id, t.product_id, t.product_name, t.product_price, t.quantity, t.subtotal
                FROM o, unnest($6::int[], $7::int[], $8::text[], $9::numeric[], $10::int[], $11::numeric[])
                     AS t(id, product_id, product_name, product_price, quantity, subtotal)
              RETURNING 1),
            e AS (
              INSERT INTO outbox_events (${OUTBOX_COLUMNS}) VALUES (${outboxPlaceholders(12)})
              RETURNING 1)${claimSql}
            SELECT (SELECT count(*) FROM i)::int AS items, (SELECT count(*) FROM e)::int AS events${check}`,
          values,
        });
      } catch (error) {
        if (claim && (error as { code?: string }).code === DIVISION_BY_ZERO) {
          throw new IdempotencyClaimLost(`idempotency claim ${claim.key} of user ${claim.userId} was lost`);
        }
        throw error;
      }
    },
  };
}

export type OrderWriter = ReturnType<typeof createOrderWriter>;

/** Order writes inside a `pg` transaction the caller holds (platform `inTransaction`). */
export const pgOrderWrites = {
  /** Locks the order row (SELECT … FOR UPDATE) so a concurrent change waits and then sees ours. */
  async lock(client: PoolClient, id: number): Promise<LockedOrder | undefined> {
    const { rows } = await client.query<{ id: number; user_id: number; status: string; version: number }>({
      name: 'order_lock',
      text: 'SELECT id, user_id, status, version FROM orders WHERE id = $1 FOR UPDATE',
      values: [id],
    });
    const row = rows[0];
    return row
      ? { id: row.id, userId: row.user_id, status: row.status as OrderStatus, version: row.version }
      : undefined;
  },

  /** Moves a locked order to `cancelled` with a reason; the order without its items (events need none). */
  async cancel(client: PoolClient, locked: LockedOrder, reason: string): Promise<Order> {
    const { rows } = await client.query<OrderHeadRow>({
      name: 'order_cancel',
      text: `UPDATE orders SET status = 'cancelled', cancel_reason = $3, version = version + 1, updated_at = now()
              WHERE id = $1 AND version = $2
             RETURNING id, user_id, status, total_amount::text, cancel_reason, created_at, updated_at`,
      values: [locked.id, locked.version, reason],
    });
    const row = rows[0];
    if (!row) throw new Error(`order ${locked.id} changed underneath a held lock`);
    return {
      id: row.id,
      user_id: row.user_id,
      status: row.status as OrderStatus,
      total_amount: row.total_amount,
      cancel_reason: row.cancel_reason,
      items: [],
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    };
  },
};

interface OrderHeadRow {
  id: number;
  user_id: number;
  status: string;
  total_amount: string;
  cancel_reason: string | null;
  created_at: Date;
  updated_at: Date;
}
