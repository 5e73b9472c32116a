import { ROUTES, type AnyEvent } from '@shop/contracts';
import type { SqlExecutor } from './sql-executor';

/** The outbox columns a writer fills, in the order of `outboxRow`'s values. */
export const OUTBOX_COLUMNS = 'id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, headers';

/**
 * `$first … $first+8` with their casts, in OUTBOX_COLUMNS order: for services that write the outbox
 * row inside a larger statement of their own (one round trip for the state change and its event).
 */
export const outboxPlaceholders = (first: number): string => {
  const p = (n: number) => `$${first + n}`;
  return `${p(0)}::uuid, ${p(1)}, ${p(2)}, ${p(3)}::int, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}::jsonb, ${p(8)}::jsonb`;
};

/** The values of one outbox row for `event`, in OUTBOX_COLUMNS order (exchange and key from ROUTES). */
export function outboxRow(event: AnyEvent, aggregateType?: string): unknown[] {
  const route = ROUTES[event.type];
  const headers = event.traceparent ? { traceparent: event.traceparent } : {};
  return [
    event.id,
    aggregateType ?? route.exchange,
    event.subject,
    event.sequence,
    event.type,
    route.exchange,
    route.routingKey,
    JSON.stringify(event),
    JSON.stringify(headers),
  ];
}

/**
 * Writes events to the outbox inside the caller's transaction, so they commit (or roll back)
 * with the state change that caused them — the only way an event is ever published. All rows go
 * in one INSERT: one round trip, one NOTIFY, and `position` follows the order of `events`.
 */
export async function appendToOutbox(
  tx: SqlExecutor,
  events: readonly AnyEvent[],
  options: { aggregateType?: string } = {},
): Promise<number> {
  if (events.length === 0) return 0;
  const values = events.flatMap((event) => outboxRow(event, options.aggregateType));
  const rows = events.map((_, index) => `(${outboxPlaceholders(index * 9 + 1)})`);
  return tx.$executeRawUnsafe(`INSERT INTO outbox_events (${OUTBOX_COLUMNS}) VALUES ${rows.join(', ')}`, ...values);
}
