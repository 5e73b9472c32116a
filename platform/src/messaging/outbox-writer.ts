import { ROUTES, type AnyEvent } from '@shop/contracts';
import type { SqlExecutor } from './sql-executor';

const COLUMNS = 'id, aggregate_type, aggregate_id, sequence, type, exchange, routing_key, payload, headers';
const PLACEHOLDERS_PER_ROW = 9;

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
  const values: unknown[] = [];
  const rows = events.map((event, index) => {
    const route = ROUTES[event.type];
    const headers = event.traceparent ? { traceparent: event.traceparent } : {};
    values.push(
      event.id,
      options.aggregateType ?? route.exchange,
      event.subject,
      event.sequence,
      event.type,
      route.exchange,
      route.routingKey,
      JSON.stringify(event),
      JSON.stringify(headers),
    );
    const p = (n: number) => `$${index * PLACEHOLDERS_PER_ROW + n}`;
    return `(${p(1)}::uuid, ${p(2)}, ${p(3)}, ${p(4)}::int, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}::jsonb, ${p(9)}::jsonb)`;
  });
  return tx.$executeRawUnsafe(`INSERT INTO outbox_events (${COLUMNS}) VALUES ${rows.join(', ')}`, ...values);
}
