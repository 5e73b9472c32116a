import type { AnyEvent, EventType } from '@shop/contracts';
import { appendToOutbox, buildEvent, type BuildEventInput } from '@shop/platform';
import type { Db } from '../db/database';

/** The inbound event a saga step answers: its id deduplicates the step, and it links the events it causes. */
export interface SagaCause {
  /** Inbox name (the consumer's queue). */
  consumer: string;
  eventId: string;
  correlationId: string;
  traceparent: string | null;
}

export const SOURCE = '/product-service';

/**
 * Appends an inventory event about one order's reservation, caused by `cause`, to the outbox of
 * `tx`: it commits with the saga step's stock change or not at all. `buildEvent` checks the payload
 * against its contract first, so an invalid event fails the step instead of reaching consumers.
 */
export async function appendInventoryEvent<T extends EventType>(
  tx: Db,
  cause: SagaCause,
  input: Pick<BuildEventInput<T>, 'type' | 'data' | 'sequence'> & { orderId: number },
): Promise<void> {
  const event = buildEvent({
    type: input.type,
    data: input.data,
    sequence: input.sequence,
    source: SOURCE,
    subject: input.orderId,
    correlationId: cause.correlationId,
    causationId: cause.eventId,
    traceparent: cause.traceparent,
  });
  // A TypedEvent<T> of a generic T is one of AnyEvent's members; TypeScript cannot narrow it itself.
  await appendToOutbox(tx, [event as AnyEvent], { aggregateType: 'stock_reservation' });
}
