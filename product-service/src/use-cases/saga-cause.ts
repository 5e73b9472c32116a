import type { AnyEvent } from '@shop/contracts';
import { buildEvent, type BuildEventInput } from '@shop/platform';
import type { EventType } from '@shop/contracts';

/** The inbound event a saga step answers: its id deduplicates the step, and it links the events it causes. */
export interface SagaCause {
  /** Inbox name (the consumer's queue). */
  consumer: string;
  eventId: string;
  correlationId: string;
  traceparent: string | null;
}

export const SOURCE = '/product-service';

/** An inventory event about one order's reservation, caused by `cause`. */
export function inventoryEvent<T extends EventType>(
  cause: SagaCause,
  input: Pick<BuildEventInput<T>, 'type' | 'data' | 'sequence'> & { orderId: number },
): AnyEvent {
  return buildEvent({
    type: input.type,
    data: input.data,
    sequence: input.sequence,
    source: SOURCE,
    subject: input.orderId,
    correlationId: cause.correlationId,
    causationId: cause.eventId,
    traceparent: cause.traceparent,
  }) as AnyEvent;
}
