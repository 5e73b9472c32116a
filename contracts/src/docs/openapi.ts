import type { z } from 'zod';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Problem } from '../common';
import { Health } from '../health';
import { Notification, NotificationList } from '../notifications';
import { ChangeOrderStatusBody, CreateOrderBody, Order, OrderItem, OrderLine, OrderList, RouteHealth } from '../orders';
import { CreateProductBody, MAX_IDS_PER_LOOKUP, PatchProductBody, Product, ProductList } from '../products';
import { PROBLEM_EXAMPLES, type ProblemExample } from './examples';
import { jsonSchemaOf, namedJsonSchemas, type JsonSchema } from './json-schema';
import { ROUTE_SPECS, type Access, type HttpMethod, type Owner, type RouteSpec, type SuccessSpec } from './openapi-routes';

/**
 * The OpenAPI 3.1 document of the public API (SPEC §4), generated from the zod contracts with
 * zod's own JSON Schema conversion: request bodies as their input side (what a client may send),
 * responses as their output side (what a service returns). Served by the gateway at
 * /openapi.json and checked in as contracts/openapi.json (`npm run docs:generate`).
 */
export const API_VERSION = '1.0.0';

const SCHEMA_REF = '#/components/schemas/';
const ref = (name: string) => ({ $ref: `${SCHEMA_REF}${name}` });

/** What a client sends. Problem is here too: its input side leaves extension members open (RFC 9457 §3.2). */
const INPUT_SCHEMAS: Record<string, z.ZodType> = {
  CreateProductBody,
  PatchProductBody,
  OrderLine,
  CreateOrderBody,
  ChangeOrderStatusBody,
  Problem,
};

/** What a service answers. */
const OUTPUT_SCHEMAS: Record<string, z.ZodType> = {
  Product,
  ProductList,
  OrderItem,
  Order,
  OrderList,
  Notification,
  NotificationList,
  RouteHealth,
  Health,
};

export interface DocumentedRoute {
  method: 'GET' | 'POST' | 'PATCH';
  /** OpenAPI form: `/api/v1/orders/{id}`; `toExpressPath` turns it into `/api/v1/orders/:id`. */
  path: string;
  /** Which process serves it ("every service" for /health and /metrics). */
  owner: Owner;
}

/** Every route the OpenAPI document describes, for comparing with the express routers. */
export const OPENAPI_ROUTES: DocumentedRoute[] = ROUTE_SPECS.map(({ method, path, owner }) => ({
  method: method.toUpperCase() as DocumentedRoute['method'],
  path,
  owner,
}));

/** `/api/v1/orders/{id}/status` → `/api/v1/orders/:id/status`. */
export const toExpressPath = (openApiPath: string) => openApiPath.replace(/\{([A-Za-z_][\w]*)\}/g, ':$1');

/** `/api/v1/orders/:id/status` → `/api/v1/orders/{id}/status`. */
export const toOpenApiPath = (expressPath: string) => expressPath.replace(/:([A-Za-z_][\w]*)/g, '{$1}');

const HEADERS: Record<string, JsonSchema> = {
  'X-Request-Id': {
    description: 'The request id (the caller’s X-Request-Id if it was safe, otherwise a new UUID); every log line of the request carries it.',
    schema: { type: 'string' },
  },
  Location: { description: 'The URL path of the created resource.', schema: { type: 'string' }, example: '/api/v1/orders/1' },
  'Idempotent-Replayed': {
    description: 'Present and `true` when this is the stored first answer to the same Idempotency-Key and body.',
    schema: { type: 'string', const: 'true' },
  },
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'string', pattern: '^\\d+$' }, example: '1' },
  'WWW-Authenticate': { description: 'The Bearer challenge.', schema: { type: 'string' }, example: 'Bearer error="invalid_token"' },
};

const headerRefs = (names: string[]) =>
  Object.fromEntries(['X-Request-Id', ...names].map((name) => [name, { $ref: `#/components/headers/${name}` }]));

const PARAMETERS = {
  RequestId: {
    name: 'X-Request-Id',
    in: 'header',
    required: false,
    description: 'Your id for this request (1–128 of `A–Z a–z 0–9 _ . : -`); echoed back and logged by every service.',
    schema: { type: 'string', pattern: '^[\\w.:-]{1,128}$' },
  },
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'Makes the request safe to retry: the same user, key and body answer the first response again (with `Idempotent-Replayed: true`); ' +
      'the same key with another body is 422 `idempotency_key_reused`; while the first is still running, 409 with `Retry-After` ' +
      '(the seconds until its claim is free: a claim lasts at most the request deadline, `ORDER_REQUEST_DEADLINE_MS`, 10 s by ' +
      'default, so after a crash a retry gets a definite answer).',
    schema: { type: 'string', minLength: 1, maxLength: 200 },
    example: '3f1c9a2e-order-attempt-1',
  },
};

const SECURITY: Record<Access, object[]> = {
  public: [],
  internal: [],
  user: [{ bearerAuth: [] }],
  admin: [{ bearerAuth: [] }],
};

const ACCESS_NOTE: Record<Access, string> = {
  public: 'No token needed.',
  internal: 'Internal: scraped inside the network, not routed by the gateway.',
  user: 'Needs a bearer token.',
  admin: 'Needs a bearer token with the `admin` role.',
};

/** What the input side of a query schema cannot say (query values are strings until parsed). */
const PARAMETER_NOTES: Record<string, { description: string; example?: string }> = {
  id: { description: 'A positive integer id.', example: '1' },
  limit: { description: `Page size, 1–${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).`, example: String(DEFAULT_PAGE_SIZE) },
  offset: { description: 'How many items to skip (default 0).', example: '0' },
  ids: { description: `Comma-separated product ids, at most ${MAX_IDS_PER_LOOKUP}.`, example: '1,2' },
  status: { description: 'Only orders in this status.' },
  user_id: { description: 'Admins only: only this user’s orders (ignored for other users).', example: '42' },
  order_id: { description: 'Only notifications about this order.', example: '1' },
  type: { description: 'Only notifications of this event type.' },
};

function parametersOf(route: RouteSpec): object[] {
  const fromObject = (schema: z.ZodObject, where: 'path' | 'query') => {
    const json = jsonSchemaOf(schema, 'input');
    const required = new Set((json.required as string[] | undefined) ?? []);
    return Object.entries(json.properties as Record<string, JsonSchema>).map(([name, property]) => ({
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...PARAMETER_NOTES[name],
      schema: property,
    }));
  };
  return [
    ...(route.pathParams ? fromObject(route.pathParams, 'path') : []),
    ...(route.query ? fromObject(route.query, 'query') : []),
    ...(route.idempotencyKey ? [{ $ref: '#/components/parameters/IdempotencyKey' }] : []),
    { $ref: '#/components/parameters/RequestId' },
  ];
}

function successResponse(success: SuccessSpec): object {
  const mediaType = success.contentType ?? 'application/json';
  return {
    description: success.description,
    headers: headerRefs(success.headers ?? []),
    content: {
      [mediaType]: {
        ...(success.schema ? { schema: ref(success.schema) } : { schema: { type: mediaType === 'application/json' ? 'object' : 'string' } }),
        ...(success.examples ? { examples: success.examples } : {}),
      },
    },
  };
}

const PROBLEM_HEADERS: Record<number, string[]> = { 401: ['WWW-Authenticate'], 409: ['Retry-After'], 429: ['Retry-After'], 503: ['Retry-After'] };

function problemResponse(status: number, examples: [string, ProblemExample][]): object {
  const codes = [...new Set(examples.map(([, example]) => example.value.code))];
  return {
    description: examples.map(([, example]) => `\`${example.value.code}\`: ${example.summary}.`).join(' '),
    headers: headerRefs(PROBLEM_HEADERS[status] ?? []),
    content: {
      'application/problem+json': {
        schema: { allOf: [ref('Problem'), { type: 'object', properties: { status: { const: status }, code: { enum: codes } } }] },
        examples: Object.fromEntries(examples.map(([name]) => [name, { $ref: `#/components/examples/${name}` }])),
      },
    },
  };
}

function responsesOf(route: RouteSpec): Record<string, object> {
  const byStatus = new Map<number, [string, ProblemExample][]>();
  for (const name of route.problems) {
    const example = PROBLEM_EXAMPLES[name];
    byStatus.set(example.value.status, [...(byStatus.get(example.value.status) ?? []), [name, example]]);
  }
  const statuses = [...byStatus.keys()].sort((a, b) => a - b);
  return {
    ...Object.fromEntries(route.responses.map((success) => [String(success.status), successResponse(success)])),
    ...Object.fromEntries(statuses.map((status) => [String(status), problemResponse(status, byStatus.get(status)!)])),
    ...(route.problems.length ? { 500: { $ref: '#/components/responses/InternalError' } } : {}),
  };
}

function operationOf(route: RouteSpec): object {
  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    description: `${route.description}\n\n${ACCESS_NOTE[route.access]}`,
    'x-access': route.access,
    'x-served-by': route.owner,
    security: SECURITY[route.access],
    parameters: parametersOf(route),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref(route.body.schema), examples: { default: { summary: 'Seed scenario', value: route.body.example } } },
            },
          },
        }
      : {}),
    responses: responsesOf(route),
  };
}

function pathsOf(routes: RouteSpec[]): Record<string, Partial<Record<HttpMethod, object>>> {
  const paths: Record<string, Partial<Record<HttpMethod, object>>> = {};
  for (const route of routes) paths[route.path] = { ...paths[route.path], [route.method]: operationOf(route) };
  return paths;
}

/** Builds the whole OpenAPI 3.1 document; deterministic, so the checked-in copy can be compared. */
export function buildOpenApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Shop API',
      version: API_VERSION,
      description:
        'Orders, products and notifications of Shop, through the gateway. JSON is snake_case; money is a decimal string ' +
        'with two places ("205.48"); timestamps are ISO 8601 UTC. Errors are RFC 9457 `application/problem+json` with a ' +
        'stable `code`; no client input answers 5xx. On any path, a method it does not serve answers 405 ' +
        '`method_not_allowed` with `Allow`, and a header section over 16 KiB answers 431 `headers_too_large`. ' +
        'Events are described in the AsyncAPI document (contracts/asyncapi.yaml).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // Relative: "Try it out" calls the origin the page came from; an absolute URL is another origin
    // wherever the gateway is not exactly that one, and the page's Content-Security-Policy blocks it.
    servers: [{ url: '/', description: 'The gateway this document is served by' }],
    tags: [
      { name: 'products', description: 'The catalogue and its stock (product-service).' },
      { name: 'orders', description: 'Placing and following orders (order-service).' },
      { name: 'notifications', description: 'What the notification service recorded from the events (notification-service).' },
      { name: 'operations', description: 'Health and metrics, served by every service.' },
      { name: 'docs', description: 'This document and its Swagger UI (gateway).' },
    ],
    paths: pathsOf(ROUTE_SPECS),
    components: {
      schemas: { ...namedJsonSchemas(INPUT_SCHEMAS, 'input', SCHEMA_REF), ...namedJsonSchemas(OUTPUT_SCHEMAS, 'output', SCHEMA_REF) },
      parameters: PARAMETERS,
      examples: PROBLEM_EXAMPLES,
      headers: HEADERS,
      responses: {
        InternalError: problemResponse(500, [['internal_error', PROBLEM_EXAMPLES.internal_error]]),
      },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'A JWT: HS256 signed with JWT_SECRET (the local default), or RS256/ES256/EdDSA from the identity provider at JWT_JWKS_URL. ' +
            'Claims: `sub` = user id (a positive integer up to 2147483647, as a string), `roles` (may contain "admin"), `iat`, `exp`; ' +
            '`iss` / `aud` when JWT_ISSUER / JWT_AUDIENCE are set. Refused (401): a lifetime beyond JWT_MAX_TTL (default 24 h), ' +
            'an `iat` more than 60 s in the future. Locally: `npm run token -- --user 42 [--admin]`.',
        },
      },
    },
  };
}
