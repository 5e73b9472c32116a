import { z } from 'zod';
import { Id, Money, Timestamp } from './common';
import { OrderStatus } from './orders';

/**
 * Integration events: CloudEvents 1.0 structured JSON (SPEC §5). Payloads only ever grow;
 * a breaking change is a new `dataschema` version (`urn:shop:events:<Type>:<version>`).
 */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

export const OrderCreatedData = z.object({
  order_id: Id,
  user_id: Id,
  status: OrderStatus,
  total_amount: Money,
  items: z
    .array(
      z.object({
        product_id: Id,
        product_name: z.string(),
        product_price: Money,
        quantity: z.number().int().positive(),
        subtotal: Money,
      }),
    )
    .min(1),
  created_at: Timestamp,
});

export const OrderStatusUpdatedData = z.object({
  order_id: Id,
  user_id: Id,
  from_status: OrderStatus,
  to_status: OrderStatus,
  reason: z.string().nullable(),
  updated_at: Timestamp,
});

const StockLines = z.array(z.object({ product_id: Id, quantity: z.number().int().positive() }));

export const StockReservedData = z.object({ order_id: Id, items: StockLines.min(1) });

export const StockReservationFailedData = z.object({
  order_id: Id,
  reason: z.string(),
  shortages: z.array(
    z.object({
      product_id: Id,
      requested: z.number().int().positive(),
      available: z.number().int().nonnegative(),
    }),
  ),
});

export const StockReleasedData = z.object({ order_id: Id, items: StockLines });

/**
 * The order service's own timer (SPEC §4, §6 "Scheduled events"): written to its outbox with a
 * delivery time when the order is placed, published when due, consumed only by the order service,
 * which then cancels the order if it is still pending. Not one of SPEC §5's integration events.
 */
export const OrderExpiryDueData = z.object({ order_id: Id, expires_at: Timestamp });

/** Every event type with its payload schema and the schema versions consumers accept. */
export const EVENT_DATA = {
  OrderCreated: OrderCreatedData,
  OrderStatusUpdated: OrderStatusUpdatedData,
  StockReserved: StockReservedData,
  StockReservationFailed: StockReservationFailedData,
  StockReleased: StockReleasedData,
  OrderExpiryDue: OrderExpiryDueData,
} as const;

export type EventType = keyof typeof EVENT_DATA;
/** Events a service keeps to itself (its timers): routed to its own queue, never documented as integration events. */
export const INTERNAL_EVENT_TYPES: readonly EventType[] = ['OrderExpiryDue'];
/** The integration events of SPEC §5: what other services and outside consumers receive. */
export const EVENT_TYPES = (Object.keys(EVENT_DATA) as EventType[]).filter(
  (type) => !INTERNAL_EVENT_TYPES.includes(type),
);
export type EventData<T extends EventType> = z.infer<(typeof EVENT_DATA)[T]>;

export const EVENT_SCHEMA_VERSION: Record<EventType, number> = {
  OrderCreated: 1,
  OrderStatusUpdated: 1,
  StockReserved: 1,
  StockReservationFailed: 1,
  StockReleased: 1,
  OrderExpiryDue: 1,
};

/**
 * Why the service itself cancels an order (SPEC §4), and the event that then causes the cancel's
 * OrderStatusUpdated (its `causationid`). A cancel asked for over HTTP has no cause.
 */
export const CANCEL_REASONS = {
  insufficientStock: 'insufficient_stock',
  reservationExpired: 'reservation_expired',
} as const;
const CAUSE_OF_CANCEL: Record<string, EventType> = {
  [CANCEL_REASONS.insufficientStock]: 'StockReservationFailed',
  [CANCEL_REASONS.reservationExpired]: 'OrderExpiryDue',
};

/**
 * Where each event stands in its order's history (SPEC §6 "Ordering"). An event's `subject` and
 * `source` name its stream (one order's events from one service) and `sequence` its place in it:
 * it either opens its stream or follows the event of its stream with `sequence - 1`. An event
 * caused by another (its `causationid`) comes after that cause, whose type `causeType` names.
 * Consumers hold an event back until what comes before it has taken effect where they are.
 */
export const EVENT_ORDER: {
  [T in EventType]: { opensStream: boolean; causeType: (data: EventData<T>) => EventType | null };
} = {
  OrderCreated: { opensStream: true, causeType: () => null },
  // A PATCH has no cause; the service's own cancels are caused by the event their reason names.
  OrderStatusUpdated: { opensStream: false, causeType: (data) => CAUSE_OF_CANCEL[data.reason ?? ''] ?? null },
  StockReserved: { opensStream: true, causeType: () => 'OrderCreated' },
  StockReservationFailed: { opensStream: true, causeType: () => 'OrderCreated' },
  StockReleased: { opensStream: false, causeType: () => 'OrderStatusUpdated' },
  // A timer is the only event of its stream (source /order-service/timers).
  OrderExpiryDue: { opensStream: true, causeType: () => 'OrderCreated' },
};

export const dataschemaOf = (type: EventType, version = EVENT_SCHEMA_VERSION[type]) =>
  `urn:shop:events:${type}:${version}`;

/** The envelope without its payload checked: enough to route, log and dead-letter a message. */
export const EventEnvelope = z.object({
  specversion: z.literal('1.0'),
  id: z.uuid(),
  source: z.string().min(1),
  type: z.string().min(1),
  time: Timestamp,
  subject: z.string().min(1),
  datacontenttype: z.literal('application/json'),
  dataschema: z.string().regex(/^urn:shop:events:[A-Za-z]+:\d+$/),
  correlationid: z.string().min(1),
  causationid: z.string().min(1).nullable(),
  sequence: z.number().int().nonnegative(),
  traceparent: z.string().nullable(),
  data: z.unknown(),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

export type TypedEvent<T extends EventType> = Omit<EventEnvelope, 'type' | 'data'> & {
  type: T;
  data: EventData<T>;
};
export type AnyEvent = { [T in EventType]: TypedEvent<T> }[EventType];

export type EnvelopeParseResult =
  | { ok: true; event: AnyEvent }
  | {
      ok: false;
      reason: 'invalid_envelope' | 'unknown_type' | 'unsupported_schema_version' | 'invalid_data';
      detail: string;
    };

const describe = (error: z.ZodError) =>
  error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');

/** Validates an envelope and its payload against the contract; never throws. */
export function parseEvent(raw: unknown): EnvelopeParseResult {
  const envelope = EventEnvelope.safeParse(raw);
  if (!envelope.success) return { ok: false, reason: 'invalid_envelope', detail: describe(envelope.error) };
  const { type, dataschema } = envelope.data;
  if (!(type in EVENT_DATA))
    return { ok: false, reason: 'unknown_type', detail: `unknown event type ${type}` };
  const eventType = type as EventType;
  const version = Number(dataschema.split(':').pop());
  if (dataschema.split(':')[3] !== eventType || version > EVENT_SCHEMA_VERSION[eventType]) {
    return {
      ok: false,
      reason: 'unsupported_schema_version',
      detail: `${dataschema} is not understood here`,
    };
  }
  const data = EVENT_DATA[eventType].safeParse(envelope.data.data);
  if (!data.success) return { ok: false, reason: 'invalid_data', detail: describe(data.error) };
  return { ok: true, event: { ...envelope.data, type: eventType, data: data.data } as AnyEvent };
}
