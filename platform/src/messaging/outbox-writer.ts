import { ROUTES, type AnyEvent } from '@shop/contracts';
import type { Kysely } from 'kysely';
import type { Database, Statement } from '../database';

/** The outbox table as a service writes it (every service's schema.prisma declares it the same way). */
export interface OutboxTable {
  outbox_events: {
    id: string;
    aggregate_type: string;
    aggregate_id: string;
    sequence: number;
    type: string;
    exchange: string;
    routing_key: string;
    /** jsonb, written as JSON text. */
    payload: unknown;
    headers: unknown;
  };
}

/** The outbox row of `event`: exchange and routing key come from the contract's ROUTES. */
export function outboxRow(event: AnyEvent, aggregateType: string): OutboxTable['outbox_events'] {
  const route = ROUTES[event.type];
  return {
    id: event.id,
    aggregate_type: aggregateType,
    aggregate_id: event.subject,
    sequence: event.sequence,
    type: event.type,
    exchange: route.exchange,
    routing_key: route.routingKey,
    payload: JSON.stringify(event),
    headers: JSON.stringify(event.traceparent ? { traceparent: event.traceparent } : {}),
  };
}

/**
 * The outbox INSERT of `events`, built but not run: for `writeAll`, which sends it in one statement
 * with the state change that caused it. The events were built by `buildEvent`, which validated them
 * against their contract; `position` follows the order of `events`.
 *
 * `Tables extends OutboxTable`: a service's generated table types must carry the outbox table
 * with these columns, or the call does not compile.
 */
export function outboxWrite<Tables extends OutboxTable>(
  tx: Database<Tables>,
  events: readonly AnyEvent[],
  options: { aggregateType: string },
): Statement {
  if (events.length === 0) throw new TypeError('outboxWrite needs at least one event');
  return (tx as unknown as Kysely<OutboxTable>)
    .insertInto('outbox_events')
    .values(events.map((event) => outboxRow(event, options.aggregateType)));
}

/**
 * Writes events to the outbox inside the caller's transaction, so they commit (or roll back) with
 * the state change that caused them — the only way an event is ever published. All rows go in one
 * INSERT. (With other writes to send at once, put `outboxWrite` in `writeAll` instead.)
 */
export async function appendToOutbox<Tables extends OutboxTable>(
  tx: Database<Tables>,
  events: readonly AnyEvent[],
  options: { aggregateType: string },
): Promise<void> {
  if (events.length === 0) return;
  await tx.executeQuery(outboxWrite(tx, events, options).compile());
}

/** Outbox rows with a delivery time, as a service's generated table types must carry them. */
export type ScheduledEventsTable = {
  // timestamptz, written as a Date (a generated table type says so with a ColumnType).
  scheduled_events: OutboxTable['outbox_events'] & { deliver_at: unknown };
};

/**
 * `outboxWrite` for events to publish at `deliverAt`, not before (SPEC §6 "Scheduled events"): built
 * but not run, for `writeAll` with the change that schedules them. When due, the relay moves them into
 * the outbox (`releaseDueOnce`), and from there they go out with every guarantee of an outbox row.
 */
export function scheduleWrite<Tables extends ScheduledEventsTable>(
  tx: Database<Tables>,
  events: readonly AnyEvent[],
  options: { aggregateType: string; deliverAt: Date },
): Statement {
  if (events.length === 0) throw new TypeError('scheduleWrite needs at least one event');
  return (tx as unknown as Kysely<ScheduledEventsTable>)
    .insertInto('scheduled_events')
    .values(
      events.map((event) => ({ ...outboxRow(event, options.aggregateType), deliver_at: options.deliverAt })),
    );
}
