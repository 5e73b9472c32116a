import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { IdParam } from '../../src/common';
import { Health } from '../../src/health';
import { ListNotificationsQuery, NotificationList } from '../../src/notifications';
import {
  ChangeOrderStatusBody,
  CreateOrderBody,
  ListOrdersQuery,
  Order,
  OrderList,
  RouteHealth,
} from '../../src/orders';
import {
  CreateProductBody,
  ListProductsQuery,
  PatchProductBody,
  Product,
  ProductList,
} from '../../src/products';
import * as ex from '../examples';
import type { ProblemExampleName } from '../examples';
import { described, json, jsonBody, one, problems, ref, text } from './parts';

/** public: no token; user: any valid token; admin: a token with the admin role; internal: scraped inside the network. */
export type Access = 'public' | 'user' | 'admin' | 'internal';

/**
 * A route as zod-to-openapi registers it, with who serves it and who may call it; path and query
 * parameters come from zod schemas (`request`), header parameters are references to components.
 */
export type Route = Omit<RouteConfig, 'parameters'> & {
  description: string;
  'x-access': Access;
  'x-served-by': string;
  parameters?: { $ref: string }[];
};

/** What the gateway itself can answer on any proxied /api/v1 route. */
const VIA_GATEWAY: ProblemExampleName[] = ['rate_limited', 'service_unavailable', 'service_timeout'];
/** What a service answers when its database is unreachable or the connection was lost mid-request. */
const DATABASE: ProblemExampleName[] = ['database_unavailable'];
/** What `jsonBody()` answers before a handler sees a body. */
const JSON_BODY: ProblemExampleName[] = [
  'malformed_json',
  'bad_request',
  'payload_too_large',
  'unsupported_media_type',
];
/** The gateway's own pages, limited per client address (RATE_LIMIT_ANONYMOUS_PER_MINUTE, a budget of their own). */
const GATEWAY_PAGE: ProblemExampleName[] = ['rate_limited'];

/** SPEC §4, route by route: the single source of the OpenAPI paths. */
export const ROUTES: Route[] = [
  {
    method: 'get',
    path: '/api/v1/products',
    'x-served-by': 'product-service',
    'x-access': 'public',
    operationId: 'listProducts',
    tags: ['products'],
    summary: 'List products',
    description:
      'The catalogue, by id. `ids=1,2` fetches a batch (at most 100 ids; repeated ids count once).',
    request: { query: described(ListProductsQuery) },
    responses: {
      200: json('A page of products.', ProductList, one('The three seed products', ex.PRODUCT_LIST_EXAMPLE)),
      ...problems('validation_error_query', ...DATABASE, ...VIA_GATEWAY),
    },
  },
  {
    method: 'get',
    path: '/api/v1/products/{id}',
    'x-served-by': 'product-service',
    'x-access': 'public',
    operationId: 'getProduct',
    tags: ['products'],
    summary: 'Get a product',
    description: 'One product. An id that is not a positive integer names no product: 404.',
    request: { params: described(IdParam) },
    responses: {
      200: json('The product.', Product, one('Product 1', ex.SEED_PRODUCTS[0])),
      ...problems('bad_request', 'product_not_found', ...DATABASE, ...VIA_GATEWAY),
    },
  },
  {
    method: 'post',
    path: '/api/v1/products',
    'x-served-by': 'product-service',
    'x-access': 'admin',
    operationId: 'createProduct',
    tags: ['products'],
    summary: 'Create a product (admin)',
    description:
      'Adds a product to the catalogue. `price` may be a decimal string or a number with at most two decimals; ' +
      'it is stored and returned as a string.',
    request: { body: jsonBody(CreateProductBody, ex.CREATE_PRODUCT_EXAMPLE) },
    responses: {
      201: json(
        'Created; `Location` names the new product.',
        Product,
        one('The USB-C hub of the seed', ex.SEED_PRODUCTS[2]),
        ['Location'],
      ),
      ...problems(
        ...JSON_BODY,
        'unauthorized',
        'forbidden_admin',
        'validation_error_product',
        ...DATABASE,
        ...VIA_GATEWAY,
      ),
    },
  },
  {
    method: 'patch',
    path: '/api/v1/products/{id}',
    'x-served-by': 'product-service',
    'x-access': 'admin',
    operationId: 'updateProduct',
    tags: ['products'],
    summary: 'Update a product (admin)',
    description: 'Changes any of name, description, price and stock; at least one must be given.',
    request: { params: described(IdParam), body: jsonBody(PatchProductBody, ex.PATCH_PRODUCT_EXAMPLE) },
    responses: {
      200: json(
        'The updated product.',
        Product,
        one('Mouse repriced and restocked', ex.PATCHED_PRODUCT_EXAMPLE),
      ),
      ...problems(
        ...JSON_BODY,
        'unauthorized',
        'forbidden_admin',
        'product_not_found',
        'validation_error_product',
        ...DATABASE,
        ...VIA_GATEWAY,
      ),
    },
  },
  {
    method: 'post',
    path: '/api/v1/orders',
    'x-served-by': 'order-service',
    'x-access': 'user',
    operationId: 'placeOrder',
    tags: ['orders'],
    summary: 'Place an order',
    description:
      'Fetches the products in one call, rejects unknown products (404) and quantities above the current stock (400), ' +
      'snapshots name and price, and stores the order with its `OrderCreated` event in one transaction. The stock check is ' +
      'advisory: the product service reserves stock from the event and the order is cancelled (reason `insufficient_stock`) ' +
      'if that fails. With an `Idempotency-Key`, a retry with the same body answers the first response again.',
    parameters: [ref('parameters', 'IdempotencyKey')],
    request: { body: jsonBody(CreateOrderBody, ex.CREATE_ORDER_EXAMPLE) },
    responses: {
      201: json(
        'Placed (or, with `Idempotent-Replayed: true`, the first answer to this Idempotency-Key again).',
        Order,
        one('Two mice and a keyboard: 205.48', ex.ORDER_EXAMPLE),
        ['Location', 'Idempotent-Replayed'],
      ),
      ...problems(
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
      ),
    },
  },
  {
    method: 'get',
    path: '/api/v1/orders',
    'x-served-by': 'order-service',
    'x-access': 'user',
    operationId: 'listOrders',
    tags: ['orders'],
    summary: 'List orders',
    description:
      'Newest first, with their items. A user sees their own orders (a `user_id` they pass is ignored); ' +
      "an admin sees everyone's or filters by `user_id`.",
    request: { query: described(ListOrdersQuery) },
    responses: {
      200: json('A page of orders.', OrderList, one("User 42's orders", ex.ORDER_LIST_EXAMPLE)),
      ...problems('unauthorized', 'validation_error_query', ...DATABASE, ...VIA_GATEWAY),
    },
  },
  {
    method: 'get',
    path: '/api/v1/orders/health',
    'x-served-by': 'order-service',
    'x-access': 'public',
    operationId: 'getOrderRouteHealth',
    tags: ['orders'],
    summary: 'Order route health',
    description: 'Answers 200 while the order routes are served (no token needed).',
    responses: {
      200: json('The order routes are up.', RouteHealth, one('Up', ex.ROUTE_HEALTH_EXAMPLE)),
      ...problems(...VIA_GATEWAY),
    },
  },
  {
    method: 'get',
    path: '/api/v1/orders/{id}',
    'x-served-by': 'order-service',
    'x-access': 'user',
    operationId: 'getOrder',
    tags: ['orders'],
    summary: 'Get an order',
    description:
      "One order with its items, for its owner or an admin. Someone else's order answers 404, as if it did not exist.",
    request: { params: described(IdParam) },
    responses: {
      200: json('The order.', Order, one('Order 1', ex.ORDER_EXAMPLE)),
      ...problems('bad_request', 'unauthorized', 'order_not_found', ...DATABASE, ...VIA_GATEWAY),
    },
  },
  {
    method: 'patch',
    path: '/api/v1/orders/{id}/status',
    'x-served-by': 'order-service',
    'x-access': 'user',
    operationId: 'changeOrderStatus',
    tags: ['orders'],
    summary: 'Change an order’s status',
    description:
      'pending → confirmed → shipped → delivered; pending, confirmed or shipped → cancelled. An admin may make any valid ' +
      'change (cancelling a shipped order returns no stock: the goods have left); the owner may only cancel a pending or ' +
      'confirmed order (a shipped one is 400 `invalid_status_transition`). The change and its `OrderStatusUpdated` event ' +
      'are stored in one transaction.',
    request: { params: described(IdParam), body: jsonBody(ChangeOrderStatusBody, ex.CHANGE_STATUS_EXAMPLE) },
    responses: {
      200: json('The order after the change.', Order, one('pending → confirmed', ex.CONFIRMED_ORDER_EXAMPLE)),
      ...problems(
        ...JSON_BODY,
        'invalid_status_transition',
        'unauthorized',
        'forbidden_owner',
        'order_not_found',
        'validation_error_status',
        ...DATABASE,
        ...VIA_GATEWAY,
      ),
    },
  },
  {
    method: 'get',
    path: '/api/v1/notifications',
    'x-served-by': 'notification-service',
    'x-access': 'user',
    operationId: 'listNotifications',
    tags: ['notifications'],
    summary: 'List notifications',
    description:
      'One notification per event received. An admin sees all; a user sees those about their own orders.',
    request: { query: described(ListNotificationsQuery) },
    responses: {
      200: json(
        'A page of notifications.',
        NotificationList,
        one('Order 1 was placed', ex.NOTIFICATION_LIST_EXAMPLE),
      ),
      ...problems('unauthorized', 'validation_error_query', ...DATABASE, ...VIA_GATEWAY),
    },
  },
  {
    method: 'get',
    path: '/health',
    'x-served-by': 'every service',
    'x-access': 'public',
    operationId: 'getHealth',
    tags: ['operations'],
    summary: 'Health',
    description:
      'Every service answers for itself (checks: database, broker, …); the gateway answers for the services behind it, ' +
      'from a short cache (HEALTH_CACHE_MS) and rate-limited per client address. 200 while the service can serve ' +
      '(`ok`, or `degraded` without its broker), 503 when it cannot.',
    responses: {
      200: json('Serving.', Health, {
        ok: { summary: 'Everything up', value: ex.HEALTH_OK_EXAMPLE },
        degraded: { summary: 'Broker down: orders still accepted', value: ex.HEALTH_DEGRADED_EXAMPLE },
      }),
      503: json(
        'Not serving: a critical dependency is down.',
        Health,
        one('Database down', ex.HEALTH_DOWN_EXAMPLE),
      ),
      ...problems(...GATEWAY_PAGE),
    },
  },
  {
    method: 'get',
    path: '/health/ready',
    'x-served-by': 'services with an outbox',
    'x-access': 'public',
    operationId: 'getReadiness',
    tags: ['operations'],
    summary: 'Readiness',
    description:
      'For a load balancer or orchestrator: 503 when the database is down or the oldest unpublished outbox event ' +
      'is older than OUTBOX_MAX_LAG (default 60 s), i.e. events are not flowing; 200 otherwise.',
    responses: {
      200: json('Ready.', Health, one('Ready', ex.HEALTH_OK_EXAMPLE)),
      503: json(
        'Not ready: database down or outbox lagging.',
        Health,
        one('Database down', ex.HEALTH_DOWN_EXAMPLE),
      ),
    },
  },
  {
    method: 'get',
    path: '/metrics',
    'x-served-by': 'every service (the gateway: only on METRICS_PORT)',
    'x-access': 'internal',
    operationId: 'getMetrics',
    tags: ['operations'],
    summary: 'Prometheus metrics',
    description:
      'Prometheus text exposition; meant to be scraped inside the network, not published. Each service serves it on ' +
      'its own port; the gateway serves its own only on the internal METRICS_PORT (default 9400), never on :3000, ' +
      'where `/metrics` is 404.',
    responses: {
      200: text(
        'The metrics.',
        'text/plain; version=0.0.4; charset=utf-8',
        one('An HTTP histogram bucket', ex.METRICS_EXAMPLE),
      ),
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    'x-served-by': 'gateway',
    'x-access': 'public',
    operationId: 'getOpenApiDocument',
    tags: ['docs'],
    summary: 'This document',
    description: 'The OpenAPI 3.1 document, generated from the zod contracts.',
    responses: { 200: json('The OpenAPI document.', { type: 'object' }), ...problems(...GATEWAY_PAGE) },
  },
  {
    method: 'get',
    path: '/docs',
    'x-served-by': 'gateway',
    'x-access': 'public',
    operationId: 'getApiDocs',
    tags: ['docs'],
    summary: 'Swagger UI',
    description: 'Swagger UI over /openapi.json.',
    responses: { 200: text('The Swagger UI page.', 'text/html'), ...problems(...GATEWAY_PAGE) },
  },
];
