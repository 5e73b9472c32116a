import type { z } from 'zod';
import { IdParam } from '../../src/common';
import { Health } from '../../src/health';
import { ListNotificationsQuery, NotificationList } from '../../src/notifications';
import { ChangeOrderStatusBody, CreateOrderBody, ListOrdersQuery, Order, OrderList, RouteHealth } from '../../src/orders';
import { CreateProductBody, ListProductsQuery, PatchProductBody, Product, ProductList } from '../../src/products';
import * as ex from '../examples';
import type { ProblemExampleName } from '../examples';

/** public: no token; user: any valid token; admin: a token with the admin role; internal: scraped inside the network. */
export type Access = 'public' | 'user' | 'admin' | 'internal';

export interface SuccessSpec {
  status: number;
  description: string;
  /** The contract of a JSON answer; without one, `contentType` says what else is answered. */
  schema?: z.ZodType;
  contentType?: string;
  examples?: Record<string, { summary: string; value: unknown }>;
  headers?: ('Location' | 'Idempotent-Replayed')[];
}

export interface RouteSpec {
  method: 'get' | 'post' | 'patch';
  /** OpenAPI form, e.g. `/api/v1/orders/{id}/status`. */
  path: string;
  /** Which process serves it (`x-served-by`). */
  owner: string;
  operationId: string;
  tag: string;
  summary: string;
  description: string;
  access: Access;
  pathParams?: z.ZodObject;
  query?: z.ZodObject;
  idempotencyKey?: boolean;
  body?: { schema: z.ZodType; example: unknown };
  responses: SuccessSpec[];
  /** The problems this route can answer with; grouped by status in the document. */
  problems: ProblemExampleName[];
}

/** What the gateway itself can answer on any proxied /api/v1 route. */
const VIA_GATEWAY: ProblemExampleName[] = ['rate_limited', 'service_unavailable', 'service_timeout'];
/** What a service answers when its database is unreachable or the connection was lost mid-request. */
const DATABASE: ProblemExampleName[] = ['database_unavailable'];
/** What `jsonBody()` answers before a handler sees a body. */
const JSON_BODY: ProblemExampleName[] = ['malformed_json', 'bad_request', 'payload_too_large', 'unsupported_media_type'];

const one = (summary: string, value: unknown) => ({ default: { summary, value } });

/** The gateway's own pages, limited per client address (RATE_LIMIT_ANONYMOUS_PER_MINUTE, a budget of their own). */
const GATEWAY_PAGE: ProblemExampleName[] = ['rate_limited'];

/** SPEC §4, route by route: the single source of the OpenAPI paths. */
export const ROUTE_SPECS: RouteSpec[] = [
  {
    method: 'get',
    path: '/api/v1/products',
    owner: 'product-service',
    operationId: 'listProducts',
    tag: 'products',
    summary: 'List products',
    description: 'The catalogue, by id. `ids=1,2` fetches a batch (at most 100 ids; repeated ids count once).',
    access: 'public',
    query: ListProductsQuery,
    responses: [{ status: 200, description: 'A page of products.', schema: ProductList, examples: one('The three seed products', ex.PRODUCT_LIST_EXAMPLE) }],
    problems: ['validation_error_query', ...DATABASE, ...VIA_GATEWAY],
  },
  {
    method: 'get',
    path: '/api/v1/products/{id}',
    owner: 'product-service',
    operationId: 'getProduct',
    tag: 'products',
    summary: 'Get a product',
    description: 'One product. An id that is not a positive integer names no product: 404.',
    access: 'public',
    pathParams: IdParam,
    responses: [{ status: 200, description: 'The product.', schema: Product, examples: one('Product 1', ex.SEED_PRODUCTS[0]) }],
    problems: ['bad_request', 'product_not_found', ...DATABASE, ...VIA_GATEWAY],
  },
  {
    method: 'post',
    path: '/api/v1/products',
    owner: 'product-service',
    operationId: 'createProduct',
    tag: 'products',
    summary: 'Create a product (admin)',
    description: 'Adds a product to the catalogue. `price` may be a decimal string or a number with at most two decimals; it is stored and returned as a string.',
    access: 'admin',
    body: { schema: CreateProductBody, example: ex.CREATE_PRODUCT_EXAMPLE },
    responses: [
      {
        status: 201,
        description: 'Created; `Location` names the new product.',
        schema: Product,
        headers: ['Location'],
        examples: one('The USB-C hub of the seed', ex.SEED_PRODUCTS[2]),
      },
    ],
    problems: [...JSON_BODY, 'unauthorized', 'forbidden_admin', 'validation_error_product', ...DATABASE, ...VIA_GATEWAY],
  },
  {
    method: 'patch',
    path: '/api/v1/products/{id}',
    owner: 'product-service',
    operationId: 'updateProduct',
    tag: 'products',
    summary: 'Update a product (admin)',
    description: 'Changes any of name, description, price and stock; at least one must be given.',
    access: 'admin',
    pathParams: IdParam,
    body: { schema: PatchProductBody, example: ex.PATCH_PRODUCT_EXAMPLE },
    responses: [{ status: 200, description: 'The updated product.', schema: Product, examples: one('Mouse repriced and restocked', ex.PATCHED_PRODUCT_EXAMPLE) }],
    problems: [...JSON_BODY, 'unauthorized', 'forbidden_admin', 'product_not_found', 'validation_error_product', ...DATABASE, ...VIA_GATEWAY],
  },
  {
    method: 'post',
    path: '/api/v1/orders',
    owner: 'order-service',
    operationId: 'placeOrder',
    tag: 'orders',
    summary: 'Place an order',
    description:
      'Fetches the products in one call, rejects unknown products (404) and quantities above the current stock (400), ' +
      'snapshots name and price, and stores the order with its `OrderCreated` event in one transaction. The stock check is ' +
      'advisory: the product service reserves stock from the event and the order is cancelled (reason `insufficient_stock`) ' +
      'if that fails. With an `Idempotency-Key`, a retry with the same body answers the first response again.',
    access: 'user',
    idempotencyKey: true,
    body: { schema: CreateOrderBody, example: ex.CREATE_ORDER_EXAMPLE },
    responses: [
      {
        status: 201,
        description: 'Placed (or, with `Idempotent-Replayed: true`, the first answer to this Idempotency-Key again).',
        schema: Order,
        headers: ['Location', 'Idempotent-Replayed'],
        examples: one('Two mice and a keyboard: 205.48', ex.ORDER_EXAMPLE),
      },
    ],
    problems: [
      ...JSON_BODY,
      'insufficient_stock',
      'unauthorized',
      'product_not_found_in_order',
      'idempotency_request_in_flight',
      'validation_error_order',
      'idempotency_key_reused',
      'rate_limited',
      'product_service_unavailable',
      ...DATABASE,
      'service_unavailable',
      'product_service_timeout',
      'service_timeout',
    ],
  },
  {
    method: 'get',
    path: '/api/v1/orders',
    owner: 'order-service',
    operationId: 'listOrders',
    tag: 'orders',
    summary: 'List orders',
    description: "Newest first, with their items. A user sees their own orders (a `user_id` they pass is ignored); an admin sees everyone's or filters by `user_id`.",
    access: 'user',
    query: ListOrdersQuery,
    responses: [{ status: 200, description: 'A page of orders.', schema: OrderList, examples: one("User 42's orders", ex.ORDER_LIST_EXAMPLE) }],
    problems: ['unauthorized', 'validation_error_query', ...DATABASE, ...VIA_GATEWAY],
  },
  {
    method: 'get',
    path: '/api/v1/orders/health',
    owner: 'order-service',
    operationId: 'getOrderRouteHealth',
    tag: 'orders',
    summary: 'Order route health',
    description: 'Answers 200 while the order routes are served (no token needed).',
    access: 'public',
    responses: [{ status: 200, description: 'The order routes are up.', schema: RouteHealth, examples: one('Up', ex.ROUTE_HEALTH_EXAMPLE) }],
    problems: [...VIA_GATEWAY],
  },
  {
    method: 'get',
    path: '/api/v1/orders/{id}',
    owner: 'order-service',
    operationId: 'getOrder',
    tag: 'orders',
    summary: 'Get an order',
    description: "One order with its items, for its owner or an admin. Someone else's order answers 404, as if it did not exist.",
    access: 'user',
    pathParams: IdParam,
    responses: [{ status: 200, description: 'The order.', schema: Order, examples: one('Order 1', ex.ORDER_EXAMPLE) }],
    problems: ['bad_request', 'unauthorized', 'order_not_found', ...DATABASE, ...VIA_GATEWAY],
  },
  {
    method: 'patch',
    path: '/api/v1/orders/{id}/status',
    owner: 'order-service',
    operationId: 'changeOrderStatus',
    tag: 'orders',
    summary: 'Change an order’s status',
    description:
      'pending → confirmed → shipped → delivered; pending, confirmed or shipped → cancelled. An admin may make any valid ' +
      'change (cancelling a shipped order returns no stock: the goods have left); the owner may only cancel a pending or ' +
      'confirmed order (a shipped one is 400 `invalid_status_transition`). The change and its `OrderStatusUpdated` event ' +
      'are stored in one transaction.',
    access: 'user',
    pathParams: IdParam,
    body: { schema: ChangeOrderStatusBody, example: ex.CHANGE_STATUS_EXAMPLE },
    responses: [{ status: 200, description: 'The order after the change.', schema: Order, examples: one('pending → confirmed', ex.CONFIRMED_ORDER_EXAMPLE) }],
    problems: [
      ...JSON_BODY,
      'invalid_status_transition',
      'unauthorized',
      'forbidden_owner',
      'order_not_found',
      'validation_error_status',
      ...DATABASE,
      ...VIA_GATEWAY,
    ],
  },
  {
    method: 'get',
    path: '/api/v1/notifications',
    owner: 'notification-service',
    operationId: 'listNotifications',
    tag: 'notifications',
    summary: 'List notifications',
    description: 'One notification per event received. An admin sees all; a user sees those about their own orders.',
    access: 'user',
    query: ListNotificationsQuery,
    responses: [
      { status: 200, description: 'A page of notifications.', schema: NotificationList, examples: one('Order 1 was placed', ex.NOTIFICATION_LIST_EXAMPLE) },
    ],
    problems: ['unauthorized', 'validation_error_query', ...DATABASE, ...VIA_GATEWAY],
  },
  {
    method: 'get',
    path: '/health',
    owner: 'every service',
    operationId: 'getHealth',
    tag: 'operations',
    summary: 'Health',
    description:
      'Every service answers for itself (checks: database, broker, …); the gateway answers for the services behind it, ' +
      'from a short cache (HEALTH_CACHE_MS) and rate-limited per client address. 200 while the service can serve ' +
      '(`ok`, or `degraded` without its broker), 503 when it cannot.',
    access: 'public',
    responses: [
      {
        status: 200,
        description: 'Serving.',
        schema: Health,
        examples: { ok: { summary: 'Everything up', value: ex.HEALTH_OK_EXAMPLE }, degraded: { summary: 'Broker down: orders still accepted', value: ex.HEALTH_DEGRADED_EXAMPLE } },
      },
      { status: 503, description: 'Not serving: a critical dependency is down.', schema: Health, examples: one('Database down', ex.HEALTH_DOWN_EXAMPLE) },
    ],
    problems: GATEWAY_PAGE,
  },
  {
    method: 'get',
    path: '/health/ready',
    owner: 'services with an outbox',
    operationId: 'getReadiness',
    tag: 'operations',
    summary: 'Readiness',
    description:
      'For a load balancer or orchestrator: 503 when the database is down or the oldest unpublished outbox event ' +
      'is older than OUTBOX_MAX_LAG (default 60 s), i.e. events are not flowing; 200 otherwise.',
    access: 'public',
    responses: [
      { status: 200, description: 'Ready.', schema: Health, examples: one('Ready', ex.HEALTH_OK_EXAMPLE) },
      { status: 503, description: 'Not ready: database down or outbox lagging.', schema: Health, examples: one('Database down', ex.HEALTH_DOWN_EXAMPLE) },
    ],
    problems: [],
  },
  {
    method: 'get',
    path: '/metrics',
    owner: 'every service (the gateway: only on METRICS_PORT)',
    operationId: 'getMetrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    description:
      'Prometheus text exposition; meant to be scraped inside the network, not published. Each service serves it on its own ' +
      'port; the gateway serves its own only on the internal METRICS_PORT (default 9400), never on :3000, where `/metrics` is 404.',
    access: 'internal',
    responses: [
      {
        status: 200,
        description: 'The metrics.',
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
        examples: one('An HTTP histogram bucket', ex.METRICS_EXAMPLE),
      },
    ],
    problems: [],
  },
  {
    method: 'get',
    path: '/openapi.json',
    owner: 'gateway',
    operationId: 'getOpenApiDocument',
    tag: 'docs',
    summary: 'This document',
    description: 'The OpenAPI 3.1 document, generated from the zod contracts.',
    access: 'public',
    responses: [{ status: 200, description: 'The OpenAPI document.', contentType: 'application/json' }],
    problems: GATEWAY_PAGE,
  },
  {
    method: 'get',
    path: '/docs',
    owner: 'gateway',
    operationId: 'getApiDocs',
    tag: 'docs',
    summary: 'Swagger UI',
    description: 'Swagger UI over /openapi.json.',
    access: 'public',
    responses: [{ status: 200, description: 'The Swagger UI page.', contentType: 'text/html' }],
    problems: GATEWAY_PAGE,
  },
];
