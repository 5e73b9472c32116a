import { randomUUID } from 'node:crypto';
import { dataschemaOf, EVENT_DATA, type EventData, type EventType, type TypedEvent } from '@shop/contracts';

export interface BuildEventInput<T extends EventType> {
  type: T;
  /** The producing service, e.g. "/order-service". */
  source: string;
  /** The aggregate id, e.g. the order id. */
  subject: string | number;
  data: EventData<T>;
  /** Per-aggregate version: consumers use it to spot out-of-order events. */
  sequence: number;
  correlationId: string;
  causationId?: string | null;
  traceparent?: string | null;
  id?: string;
  time?: Date | string;
}

/**
 * Builds a CloudEvents 1.0 envelope (SPEC §5). The payload is checked against the contract here,
 * on the producing side, so an invalid event fails the business transaction instead of reaching
 * every consumer's dead-letter queue.
 */
export function buildEvent<T extends EventType>(input: BuildEventInput<T>): TypedEvent<T> {
  const data = EVENT_DATA[input.type].parse(input.data) as EventData<T>;
  const time = input.time ?? new Date();
  return {
    specversion: '1.0',
    id: input.id ?? randomUUID(),
    source: input.source,
    type: input.type,
    time: typeof time === 'string' ? time : time.toISOString(),
    subject: String(input.subject),
    datacontenttype: 'application/json',
    dataschema: dataschemaOf(input.type),
    correlationid: input.correlationId,
    causationid: input.causationId ?? null,
    sequence: input.sequence,
    traceparent: input.traceparent ?? null,
    data,
  };
}
