import type { z } from 'zod';
import { PageQuery, PROBLEM_TITLES, type ErrorCode, type Problem } from '../src/common';
import { ChangeOrderStatusBody, CreateOrderBody, type Order, type OrderList } from '../src/orders';
import { CreateProductBody, type PatchProductBody, type Product, type ProductList } from '../src/products';
import type { Health } from '../src/health';
import type { Notification, NotificationList } from '../src/notifications';
import { dataschemaOf, type EventType, type TypedEvent } from '../src/events';

/**
 * Examples for the OpenAPI and AsyncAPI documents, all taken from the seed scenario (SPEC §4):
 * the three seed products, user 42's order of two mice and a keyboard (205.48), product 999
 * that does not exist and 10 USB-C hubs when 5 are in stock. A test parses each of them with
 * its contract, so an example cannot drift from the schema it illustrates.
 */
const SEEDED_AT = '2025-01-01T09:00:00.000Z';
const PLACED_AT = '2025-01-01T12:00:00.000Z';
const CONFIRMED_AT = '2025-01-01T12:05:00.000Z';
const ORDER_ID = 1;
const USER_ID = 42;
const CORRELATION_ID = '5f0c6d1e-8d2b-4c1e-9a57-3e2f4b6a7c81';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const seedProduct = (id: number, name: string, description: string, price: string, stock: number): Product => ({
  id,
  name,
  description,
  price,
  stock,
  created_at: SEEDED_AT,
  updated_at: SEEDED_AT,
});

export const SEED_PRODUCTS: Product[] = [
  seedProduct(1, 'Wireless Mouse', 'Ergonomic 2.4 GHz wireless mouse', '25.99', 100),
  seedProduct(2, 'Mechanical Keyboard', 'Tenkeyless keyboard with brown switches', '153.50', 50),
  seedProduct(3, 'USB-C Hub', '7-in-1 USB-C hub with HDMI and card reader', '49.99', 5),
];

export const PRODUCT_LIST_EXAMPLE: ProductList = { items: SEED_PRODUCTS, total: 3, limit: 20, offset: 0 };

export const CREATE_PRODUCT_EXAMPLE: z.input<typeof CreateProductBody> = {
  name: 'USB-C Hub',
  description: '7-in-1 USB-C hub with HDMI and card reader',
  price: '49.99',
  stock: 5,
};

export const PATCH_PRODUCT_EXAMPLE: z.input<typeof PatchProductBody> = { price: '23.99', stock: 120 };

export const PATCHED_PRODUCT_EXAMPLE: Product = {
  ...SEED_PRODUCTS[0],
  price: '23.99',
  stock: 120,
  updated_at: '2025-01-02T08:30:00.000Z',
};

export const CREATE_ORDER_EXAMPLE: CreateOrderBody = {
  items: [
    { product_id: 1, quantity: 2 },
    { product_id: 2, quantity: 1 },
  ],
};

export const ORDER_EXAMPLE: Order = {
  id: ORDER_ID,
  user_id: USER_ID,
  status: 'pending',
  total_amount: '205.48',
  cancel_reason: null,
  items: [
    { id: 1, product_id: 1, product_name: 'Wireless Mouse', product_price: '25.99', quantity: 2, subtotal: '51.98' },
    { id: 2, product_id: 2, product_name: 'Mechanical Keyboard', product_price: '153.50', quantity: 1, subtotal: '153.50' },
  ],
  created_at: PLACED_AT,
  updated_at: PLACED_AT,
};

export const CONFIRMED_ORDER_EXAMPLE: Order = { ...ORDER_EXAMPLE, status: 'confirmed', updated_at: CONFIRMED_AT };

export const ORDER_LIST_EXAMPLE: OrderList = { items: [ORDER_EXAMPLE], total: 1, limit: 20, offset: 0 };

export const CHANGE_STATUS_EXAMPLE: z.input<typeof ChangeOrderStatusBody> = { status: 'confirmed' };

export const NOTIFICATION_EXAMPLE: Notification = {
  id: 1,
  event_id: '0b6f1a52-3c4d-4e8f-9a1b-2c3d4e5f6a70',
  event_type: 'OrderCreated',
  order_id: ORDER_ID,
  user_id: USER_ID,
  message: 'Order 1 placed by user 42: 2 items, total 205.48',
  occurred_at: PLACED_AT,
  created_at: PLACED_AT,
};

export const NOTIFICATION_LIST_EXAMPLE: NotificationList = { items: [NOTIFICATION_EXAMPLE], total: 1, limit: 20, offset: 0 };

export const ROUTE_HEALTH_EXAMPLE = { status: 'ok' as const, service: 'order-service' };

export const HEALTH_OK_EXAMPLE: Health = {
  status: 'ok',
  service: 'order-service',
  checks: { database: { status: 'up' }, broker: { status: 'up' } },
};

export const HEALTH_DEGRADED_EXAMPLE: Health = {
  status: 'degraded',
  service: 'order-service',
  checks: { database: { status: 'up' }, broker: { status: 'down', detail: 'no answer within 2000 ms' } },
};

export const HEALTH_DOWN_EXAMPLE: Health = {
  status: 'down',
  service: 'order-service',
  checks: { database: { status: 'down', detail: 'connect ECONNREFUSED 127.0.0.1:5432' }, broker: { status: 'up' } },
};

export const METRICS_EXAMPLE = [
  '# HELP http_request_duration_seconds Duration of HTTP requests',
  '# TYPE http_request_duration_seconds histogram',
  'http_request_duration_seconds_bucket{le="0.05",method="POST",route="/api/v1/orders",status_code="201"} 1',
  '',
].join('\n');


/** A problem document as platform's problem handler writes it (type URL, title by status). */
export function problemExample(
  status: number,
  code: ErrorCode,
  detail: string,
  extra: Record<string, unknown> = {},
): Problem & Record<string, unknown> {
  return {
    type: `https://shop.example/problems/${code.replace(/_/g, '-')}`,
    title: PROBLEM_TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...extra,
  };
}

/** The field errors zod really reports for an input, in the `errors[]` form of a 422. */
const fieldErrorsOf = (schema: z.ZodType, input: unknown, prefix = '') =>
  (schema.safeParse(input).error?.issues ?? []).map((issue) => ({
    path: issue.path.length ? `${prefix}${issue.path.join('.')}` : '(body)',
    message: issue.message,
  }));

export interface ProblemExample {
  summary: string;
  value: Problem & Record<string, unknown>;
}

const example = (
  summary: string,
  status: number,
  code: ErrorCode,
  detail: string,
  extra: Record<string, unknown> = {},
): ProblemExample => ({ summary, value: problemExample(status, code, detail, extra) });

/**
 * Every problem the API documents, one example each; routes list the ones they can answer
 * with, and the OpenAPI document groups them by status (the `code` enum of each response).
 */
export const PROBLEM_EXAMPLES = {
  malformed_json: example('The body is not JSON', 400, 'malformed_json', 'The request body is not valid JSON.'),
  bad_request: example(
    'The body is not the gzip its Content-Encoding says, or the path holds a bad percent-escape (%ff)',
    400,
    'bad_request',
    'The request body could not be decoded with its Content-Encoding.',
  ),
  insufficient_stock: example('10 USB-C hubs ordered, 5 in stock', 400, 'insufficient_stock', 'Not enough stock for product 3.', {
    shortages: [{ product_id: 3, requested: 10, available: 5 }],
  }),
  invalid_status_transition: example(
    'delivered → shipped',
    400,
    'invalid_status_transition',
    'An order cannot go from delivered to shipped.',
    { from_status: 'delivered', to_status: 'shipped' },
  ),
  unauthorized: example('No bearer token, or one that is invalid or expired', 401, 'unauthorized', 'A bearer token is required.'),
  forbidden_admin: example('The token has no admin role', 403, 'forbidden', 'This action needs the admin role.'),
  forbidden_owner: example('An owner asks for a status other than cancelled', 403, 'forbidden', 'An order owner may only cancel the order.'),
  product_not_found: example('Product 999 does not exist', 404, 'product_not_found', 'Product 999 does not exist.'),
  product_not_found_in_order: example('The order names product 999, which does not exist', 404, 'product_not_found', 'No product with id 999.', {
    product_ids: [999],
  }),
  order_not_found: example('Order 999999 does not exist (or is not yours)', 404, 'order_not_found', 'No order with id 999999.'),
  idempotency_request_in_flight: example(
    'The first request with this key is still running',
    409,
    'idempotency_request_in_flight',
    'A request with this Idempotency-Key is still being processed.',
  ),
  payload_too_large: example('The body is over 64 kB', 413, 'payload_too_large', 'The request body is too large.'),
  unsupported_media_type: example('The body is not application/json', 415, 'unsupported_media_type', 'Send the body as application/json.'),
  validation_error_order: example('items: []', 422, 'validation_error', 'The request body is not valid.', {
    errors: fieldErrorsOf(CreateOrderBody, { items: [] }),
  }),
  validation_error_product: example('A negative price and an unknown field', 422, 'validation_error', 'The request body is not valid.', {
    errors: fieldErrorsOf(CreateProductBody, { name: 'Desk Lamp', price: '-5', colour: 'red' }),
  }),
  validation_error_status: example('A status that does not exist', 422, 'validation_error', 'The request body is not valid.', {
    errors: fieldErrorsOf(ChangeOrderStatusBody, { status: 'lost' }),
  }),
  validation_error_query: example('limit=0', 422, 'validation_error', 'The request query is not valid.', {
    errors: fieldErrorsOf(PageQuery, { limit: '0' }, 'query.'),
  }),
  idempotency_key_reused: example(
    'The same Idempotency-Key with a different body',
    422,
    'idempotency_key_reused',
    'This Idempotency-Key was already used with a different request body.',
  ),
  method_not_allowed: example(
    'DELETE on a path that answers GET, HEAD and POST',
    405,
    'method_not_allowed',
    'DELETE is not supported on /api/v1/orders; it answers GET, HEAD, POST.',
  ),
  rate_limited: example('Over the per-minute limit', 429, 'rate_limited', 'Too many requests; at most 6000 a minute are allowed.'),
  headers_too_large: example(
    'The header section is over 16 KiB (usually an oversized cookie or token)',
    431,
    'headers_too_large',
    'The request header section is larger than the server accepts; send fewer or shorter headers.',
  ),
  internal_error: example(
    'An unexpected failure',
    500,
    'internal_error',
    'Something went wrong on our side; the request id helps us find it.',
  ),
  product_service_unavailable: example(
    'The product service is down or its circuit is open',
    503,
    'product_service_unavailable',
    'The product service is not reachable.',
  ),
  product_service_timeout: example('The product service did not answer in time', 504, 'product_service_timeout', 'The product service did not answer in time.'),
  service_unavailable: example(
    'The gateway cannot reach the service',
    503,
    'service_unavailable',
    'The order service is not reachable right now; try again shortly.',
  ),
  service_timeout: example(
    'The service did not answer the gateway in time',
    504,
    'service_timeout',
    'The order service did not answer within 10000 ms.',
  ),
  database_unavailable: example(
    'The database is unreachable, or the connection was lost mid-request (a restart, a failover)',
    503,
    'database_unavailable',
    'The database is not reachable right now; try again shortly.',
  ),
} satisfies Record<string, ProblemExample>;
export type ProblemExampleName = keyof typeof PROBLEM_EXAMPLES;

const envelope = <T extends EventType>(
  type: T,
  fields: { id: string; source: string; subject: string; time: string; sequence: number; causationid: string | null },
  data: TypedEvent<T>['data'],
): TypedEvent<T> => ({
  specversion: '1.0',
  type,
  datacontenttype: 'application/json',
  dataschema: dataschemaOf(type),
  correlationid: CORRELATION_ID,
  traceparent: TRACEPARENT,
  ...fields,
  data,
});

const ORDER_CREATED_ID = '0b6f1a52-3c4d-4e8f-9a1b-2c3d4e5f6a70';

/** One example envelope per event type: the life of the 205.48 order. */
export const EVENT_EXAMPLES: { [T in EventType]: TypedEvent<T> } = {
  OrderCreated: envelope(
    'OrderCreated',
    { id: ORDER_CREATED_ID, source: '/order-service', subject: String(ORDER_ID), time: PLACED_AT, sequence: 1, causationid: null },
    {
      order_id: ORDER_ID,
      user_id: USER_ID,
      status: 'pending',
      total_amount: ORDER_EXAMPLE.total_amount,
      items: ORDER_EXAMPLE.items.map(({ id: _id, ...line }) => line),
      created_at: PLACED_AT,
    },
  ),
  OrderStatusUpdated: envelope(
    'OrderStatusUpdated',
    {
      id: '7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6',
      source: '/order-service',
      subject: String(ORDER_ID),
      time: CONFIRMED_AT,
      sequence: 2,
      causationid: null,
    },
    { order_id: ORDER_ID, user_id: USER_ID, from_status: 'pending', to_status: 'confirmed', reason: null, updated_at: CONFIRMED_AT },
  ),
  StockReserved: envelope(
    'StockReserved',
    {
      id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      source: '/product-service',
      subject: String(ORDER_ID),
      time: '2025-01-01T12:00:01.000Z',
      sequence: 1,
      causationid: ORDER_CREATED_ID,
    },
    {
      order_id: ORDER_ID,
      items: [
        { product_id: 1, quantity: 2 },
        { product_id: 2, quantity: 1 },
      ],
    },
  ),
  StockReservationFailed: envelope(
    'StockReservationFailed',
    {
      id: '3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a',
      source: '/product-service',
      subject: '2',
      time: '2025-01-01T12:10:01.000Z',
      sequence: 1,
      causationid: '2e4f6a8c-1b3d-4f5a-9c7e-0a2b4c6d8e0f',
    },
    { order_id: 2, reason: 'insufficient_stock', shortages: [{ product_id: 3, requested: 10, available: 5 }] },
  ),
  StockReleased: envelope(
    'StockReleased',
    {
      id: '6e5d4c3b-2a19-4087-b6a5-f4e3d2c1b0a9',
      source: '/product-service',
      subject: String(ORDER_ID),
      time: '2025-01-01T13:00:01.000Z',
      sequence: 2,
      causationid: '1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b',
    },
    {
      order_id: ORDER_ID,
      items: [
        { product_id: 1, quantity: 2 },
        { product_id: 2, quantity: 1 },
      ],
    },
  ),
  OrderExpiryDue: envelope(
    'OrderExpiryDue',
    {
      id: '2c1b0a99-8877-4665-9544-332211009988',
      source: '/order-service/timers',
      subject: String(ORDER_ID),
      time: PLACED_AT,
      sequence: 0,
      causationid: ORDER_CREATED_ID,
    },
    { order_id: ORDER_ID, expires_at: '2025-01-01T12:15:00.000Z' },
  ),
};
