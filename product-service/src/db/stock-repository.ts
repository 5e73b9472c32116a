import type { AnyEvent } from '@shop/contracts';
import { OUTBOX_COLUMNS, outboxPlaceholders, outboxRow } from '@shop/platform';
import type { StockLine } from '../domain/reserve-stock';
import { inTransaction, INBOX_INSERT, pgExecutor, recordInboxOnce } from '@shop/platform';
import type { Pool, PoolClient } from './pool';

export type ReservationStatus = 'reserved' | 'released' | 'rejected' | 'cancelled_before_create';

const ADVISORY_NAMESPACE = 8001;
const AGGREGATE_TYPE = 'stock_reservation';

/**
 * Runs one saga step in one transaction, holding a per-order advisory lock: an order's create and
 * cancel, delivered concurrently, are applied one after the other, so a cancel either sees the
 * reservation or leaves a tombstone the create then sees — never neither. BEGIN and the lock
 * share one round trip; every later statement takes its snapshot after the lock is held.
 */
function inOrderTransaction<T>(pool: Pool, orderId: number, work: (client: PoolClient) => Promise<T>): Promise<T> {
  return inTransaction(pool, work, { advisoryLock: [ADVISORY_NAMESPACE, orderId] });
}

/** The outbox row of an inventory event, inserted from inside the statements below. */
const outboxInsert = (first: number) => `INSERT INTO outbox_events (${OUTBOX_COLUMNS}) SELECT ${outboxPlaceholders(first)}`;

const INBOX = INBOX_INSERT;

/**
 * OrderCreated in one statement, after the lock: the inbox row; the reservation check (tombstone or
 * an earlier reservation); the products locked FOR UPDATE in id order; and — only when every line
 * is covered — the decrement, the 'reserved' row and the StockReserved outbox row. The locked
 * stock comes back, so a shortfall is decided (and reported) by the caller in the same transaction.
 * $1 consumer, $2 event id, $3 order id, $4 product ids (ascending, distinct), $5 quantities,
 * $6 reservation items, $7… the StockReserved outbox row.
 */
const RESERVE = {
  name: 'stock-reserve',
  text: `
  WITH inbox AS (${INBOX} RETURNING 1),
  existing AS (SELECT 1 FROM stock_reservations WHERE order_id = $3),
  go AS (SELECT 1 WHERE EXISTS (SELECT 1 FROM inbox) AND NOT EXISTS (SELECT 1 FROM existing)),
  locked AS (SELECT id, stock FROM products WHERE id = ANY($4::int[]) AND EXISTS (SELECT 1 FROM go) ORDER BY id FOR UPDATE),
  lines AS (SELECT * FROM unnest($4::int[], $5::int[]) AS l(id, quantity)),
  short AS (SELECT 1 FROM lines LEFT JOIN locked USING (id) WHERE lines.quantity > COALESCE(locked.stock, 0)),
  ok AS (SELECT 1 WHERE EXISTS (SELECT 1 FROM go) AND NOT EXISTS (SELECT 1 FROM short)),
  decremented AS (
    UPDATE products p SET stock = p.stock - l.quantity, updated_at = now()
      FROM lines l WHERE p.id = l.id AND EXISTS (SELECT 1 FROM ok) RETURNING p.id),
  reserved AS (INSERT INTO stock_reservations (order_id, status, items) SELECT $3, 'reserved', $6::jsonb FROM ok RETURNING 1),
  outbox AS (${outboxInsert(7)} FROM ok RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM inbox) AS first_delivery,
         EXISTS (SELECT 1 FROM existing) AS existing,
         EXISTS (SELECT 1 FROM reserved) AND EXISTS (SELECT 1 FROM outbox) AND (SELECT count(*) FROM decremented) = cardinality($4::int[]) AS reserved,
         (SELECT COALESCE(array_agg(id ORDER BY id), '{}') FROM locked) AS stock_ids,
         (SELECT COALESCE(array_agg(stock ORDER BY id), '{}') FROM locked) AS stock_values`,
};

/** A refused reservation: the 'rejected' row and the StockReservationFailed outbox row. $1 order id, $2 items, $3… outbox row. */
const REJECT = {
  name: 'stock-reject',
  text: `
  WITH rejected AS (INSERT INTO stock_reservations (order_id, status, items) VALUES ($1, 'rejected', $2::jsonb) RETURNING order_id)
  ${outboxInsert(3)} FROM rejected`,
};

/**
 * OrderStatusUpdated(cancelled) in one statement, after the lock: the inbox row; the tombstone when
 * there is no reservation yet; and, when the reservation is 'reserved', its products locked in id
 * order and given their stock back, the reservation marked 'released' and the StockReleased outbox
 * row — whose payload is the caller's envelope with `data.items` set to the reservation's items.
 * $1 consumer, $2 event id, $3 order id, $4… the StockReleased outbox row.
 */
const CANCEL = {
  name: 'stock-cancel',
  text: `
  WITH inbox AS (${INBOX} RETURNING 1),
  existing AS (SELECT status, items FROM stock_reservations WHERE order_id = $3),
  tombstone AS (
    INSERT INTO stock_reservations (order_id, status, items)
    SELECT $3, 'cancelled_before_create', '[]'::jsonb
     WHERE EXISTS (SELECT 1 FROM inbox) AND NOT EXISTS (SELECT 1 FROM existing) RETURNING 1),
  go AS (SELECT items FROM existing WHERE status = 'reserved' AND EXISTS (SELECT 1 FROM inbox)),
  lines AS (SELECT (line->>'product_id')::int AS id, (line->>'quantity')::int AS quantity FROM go, jsonb_array_elements(go.items) AS line),
  locked AS (SELECT id FROM products WHERE id IN (SELECT id FROM lines) ORDER BY id FOR UPDATE),
  incremented AS (
    UPDATE products p SET stock = p.stock + l.quantity, updated_at = now()
      FROM lines l WHERE p.id = l.id AND (SELECT count(*) FROM locked) >= 0 RETURNING 1),
  released AS (
    UPDATE stock_reservations SET status = 'released', updated_at = now()
     WHERE order_id = $3 AND EXISTS (SELECT 1 FROM go) RETURNING 1),
  outbox AS (
    INSERT INTO outbox_events (${OUTBOX_COLUMNS})
    SELECT $4::uuid, $5, $6, $7::int, $8, $9, $10, jsonb_set($11::jsonb, '{data,items}', go.items), $12::jsonb
      FROM go RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM inbox) AS first_delivery, (SELECT status FROM existing) AS status,
         EXISTS (SELECT 1 FROM released) AND EXISTS (SELECT 1 FROM outbox) AS released,
         (SELECT count(*) FROM incremented)::int AS incremented`,
};

const idsAndQuantities = (lines: readonly StockLine[]): [number[], number[]] => [
  lines.map((line) => line.product_id),
  lines.map((line) => line.quantity),
];

/**
 * The OrderCreated step. `lines` are consolidated (distinct products in id order); `reservedEvent`
 * is the StockReserved event to write when every line is covered. When one is not, `decide`
 * gets the locked stock and returns the StockReservationFailed event (and the lines to record) to
 * write in the same transaction.
 */
export function reserveInTransaction<T>(
  pool: Pool,
  input: { consumer: string; eventId: string; orderId: number; lines: StockLine[]; reservedEvent: AnyEvent },
  decide: (outcome: { kind: 'duplicate' } | { kind: 'exists' } | { kind: 'reserved' } | { kind: 'short'; stock: Map<number, number> }) => { result: T; rejectedEvent?: AnyEvent },
): Promise<T> {
  return inOrderTransaction(pool, input.orderId, async (client) => {
    const [ids, quantities] = idsAndQuantities(input.lines);
    const { rows } = await client.query<{ first_delivery: boolean; existing: boolean; reserved: boolean; stock_ids: number[]; stock_values: number[] }>({
      ...RESERVE,
      values: [input.consumer, input.eventId, input.orderId, ids, quantities, JSON.stringify(input.lines), ...outboxRow(input.reservedEvent, AGGREGATE_TYPE)],
    });
    const row = rows[0];
    if (!row.first_delivery) return decide({ kind: 'duplicate' }).result;
    if (row.existing) return decide({ kind: 'exists' }).result;
    if (row.reserved) return decide({ kind: 'reserved' }).result;
    const stock = new Map(row.stock_ids.map((id, index) => [id, row.stock_values[index]]));
    const { result, rejectedEvent } = decide({ kind: 'short', stock });
    if (!rejectedEvent) throw new Error(`order ${input.orderId}: stock was short in SQL but the reservation rule did not reject`);
    await client.query({ ...REJECT, values: [input.orderId, JSON.stringify(input.lines), ...outboxRow(rejectedEvent, AGGREGATE_TYPE)] });
    return result;
  });
}

export type ReleaseResult = 'duplicate' | 'tombstoned' | 'released' | 'not_reserved';

/**
 * The cancel step. `releasedEvent` is the StockReleased envelope to write if stock goes back; its
 * `data.items` is replaced by the reservation's items in SQL.
 */
export async function releaseInTransaction(
  pool: Pool,
  input: { consumer: string; eventId: string; orderId: number; releasedEvent: AnyEvent },
): Promise<ReleaseResult> {
  return inOrderTransaction(pool, input.orderId, async (client) => {
    const { rows } = await client.query<{ first_delivery: boolean; status: ReservationStatus | null; released: boolean }>({
      ...CANCEL,
      values: [input.consumer, input.eventId, input.orderId, ...outboxRow(input.releasedEvent, AGGREGATE_TYPE)],
    });
    const row = rows[0];
    if (!row.first_delivery) return 'duplicate';
    if (row.status === null) return 'tombstoned';
    if (row.status !== 'reserved') return 'not_reserved';
    if (!row.released) throw new Error(`order ${input.orderId}: the reserved stock was not released`);
    return 'released';
  });
}

/** A status change that touches nothing but the inbox: one autocommitted statement. True when first seen. */
export async function recordInboxOnly(pool: Pool, consumer: string, eventId: string): Promise<boolean> {
  return recordInboxOnce(pgExecutor(pool), consumer, eventId);
}
