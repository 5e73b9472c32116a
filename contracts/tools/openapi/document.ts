import {
  OpenApiGeneratorV31,
  OpenAPIRegistry,
  zodToOpenAPIRegistry,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { DEFAULT_PAGE_SIZE, ErrorCode, MAX_PAGE_SIZE, Problem } from '../../src/common';
import { Health } from '../../src/health';
import { Notification, NotificationList } from '../../src/notifications';
import {
  ChangeOrderStatusBody,
  CreateOrderBody,
  Order,
  OrderItem,
  OrderLine,
  OrderList,
  RouteHealth,
} from '../../src/orders';
import {
  CreateProductBody,
  MAX_IDS_PER_LOOKUP,
  PatchProductBody,
  Product,
  ProductList,
} from '../../src/products';
import { PROBLEM_EXAMPLES, type ProblemExampleName } from '../examples';
import { ROUTE_SPECS, type Access, type RouteSpec, type SuccessSpec } from './routes';

/**
 * The OpenAPI 3.1 document of the public API (SPEC §4), generated with zod-to-openapi: every route
 * of ROUTE_SPECS is registered with the zod contracts of its parameters, body and answers. A
 * build-time tool: `npm run docs:generate` writes contracts/openapi.json, which the gateway serves.
 */
export const API_VERSION = '1.0.0';

/** The contract schemas with a name under components/schemas, in the order they are listed there. */
const NAMED_SCHEMAS = {
  Product,
  ProductList,
  CreateProductBody,
  PatchProductBody,
  OrderItem,
  Order,
  OrderList,
  OrderLine,
  CreateOrderBody,
  ChangeOrderStatusBody,
  Notification,
  NotificationList,
  RouteHealth,
  Health,
  Problem,
};

/**
 * Names the contract schemas themselves: `registry.register()` would name a copy, and every use of
 * the original inside another schema (Order's items, a list's items) would be written out inline.
 */
const nameSchemas = () => {
  for (const [refId, schema] of Object.entries(NAMED_SCHEMAS))
    zodToOpenAPIRegistry.add(schema, { _internal: { refId } });
};

const ref = (type: 'examples' | 'headers' | 'parameters' | 'responses', name: string) => ({
  $ref: `#/components/${type}/${name}`,
});

const HEADERS = {
  'X-Request-Id': {
    description:
      'The request id (the caller’s X-Request-Id if it was safe, otherwise a new UUID); every log line of the request carries it.',
    schema: { type: 'string' },
  },
  Location: {
    description: 'The URL path of the created resource.',
    schema: { type: 'string' },
    example: '/api/v1/orders/1',
  },
  'Idempotent-Replayed': {
    description:
      'Present and `true` when this is the stored first answer to the same Idempotency-Key and body.',
    schema: { type: 'string', const: 'true' },
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    schema: { type: 'string', pattern: '^\\d+$' },
    example: '1',
  },
  'WWW-Authenticate': {
    description: 'The Bearer challenge.',
    schema: { type: 'string' },
    example: 'Bearer error="invalid_token"',
  },
  Allow: {
    description: 'The methods this path does answer.',
    schema: { type: 'string' },
    example: 'GET, HEAD, POST',
  },
} as const;
type HeaderName = keyof typeof HEADERS;

const headerRefs = (names: HeaderName[]) =>
  Object.fromEntries(['X-Request-Id', ...names].map((name) => [name, ref('headers', name)]));

const PARAMETERS = {
  RequestId: {
    name: 'X-Request-Id',
    in: 'header',
    required: false,
    description:
      'Your id for this request (1–128 of `A–Z a–z 0–9 _ . : -`); echoed back and logged by every service.',
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
} as const;

/** What a query or path schema cannot say: query values are strings until parsed (so are their defaults). */
const PARAMETER_NOTES: Record<string, { description: string; example?: string; default?: string }> = {
  id: { description: 'A positive integer id.', example: '1' },
  limit: {
    description: `Page size, 1–${MAX_PAGE_SIZE}.`,
    example: String(DEFAULT_PAGE_SIZE),
    default: String(DEFAULT_PAGE_SIZE),
  },
  offset: { description: 'How many items to skip.', example: '0', default: '0' },
  ids: { description: `Comma-separated product ids, at most ${MAX_IDS_PER_LOOKUP}.`, example: '1,2' },
  status: { description: 'Only orders in this status.' },
  user_id: { description: 'Admins only: only this user’s orders (ignored for other users).', example: '42' },
  order_id: { description: 'Only notifications about this order.', example: '1' },
  type: { description: 'Only notifications of this event type.' },
};

const describedParameters = (parameters: z.ZodObject) =>
  z.object(
    Object.fromEntries(
      Object.entries(parameters.shape).map(([name, field]) => {
        const { default: fallback, ...param } = PARAMETER_NOTES[name];
        return [name, field.meta({ param, default: fallback })];
      }),
    ),
  );

const SECURITY: Record<Access, RouteConfig['security']> = {
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

/** What any request can be answered, whatever its route. */
const ANY_REQUEST: ProblemExampleName[] = ['headers_too_large', 'internal_error'];

/** The headers a problem of a status carries besides X-Request-Id. */
const PROBLEM_HEADERS: Partial<Record<number, HeaderName[]>> = {
  401: ['WWW-Authenticate'],
  405: ['Allow'],
  409: ['Retry-After'],
  429: ['Retry-After'],
  503: ['Retry-After'],
};

/** One response per status: the Problem schema narrowed to that status and its codes, one example per problem. */
function problemResponses(names: ProblemExampleName[]): Record<number, ResponseConfig> {
  const byStatus = new Map<number, ProblemExampleName[]>();
  for (const name of names) {
    const { status } = PROBLEM_EXAMPLES[name].value;
    byStatus.set(status, [...(byStatus.get(status) ?? []), name]);
  }
  return Object.fromEntries([...byStatus].map(([status, group]) => [status, problemResponse(status, group)]));
}

function problemResponse(status: number, names: ProblemExampleName[]): ResponseConfig {
  const codes = [...new Set(names.map((name) => ErrorCode.parse(PROBLEM_EXAMPLES[name].value.code)))];
  return {
    description: names
      .map((name) => `\`${PROBLEM_EXAMPLES[name].value.code}\`: ${PROBLEM_EXAMPLES[name].summary}.`)
      .join(' '),
    headers: headerRefs(PROBLEM_HEADERS[status] ?? []),
    content: {
      'application/problem+json': {
        schema: z.intersection(
          Problem,
          z.object({ status: z.literal(status), code: ErrorCode.extract(codes) }),
        ),
        examples: Object.fromEntries(names.map((name) => [name, ref('examples', name)])),
      },
    },
  };
}

function successResponse({
  description,
  schema,
  contentType = 'application/json',
  examples,
  headers = [],
}: SuccessSpec): ResponseConfig {
  return {
    description,
    headers: headerRefs(headers),
    content: {
      [contentType]: {
        schema: schema ?? { type: contentType === 'application/json' ? 'object' : 'string' },
        examples,
      },
    },
  };
}

function routeConfig(route: RouteSpec): RouteConfig {
  return {
    method: route.method,
    path: route.path,
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    description: `${route.description}\n\n${ACCESS_NOTE[route.access]}`,
    'x-access': route.access,
    'x-served-by': route.owner,
    security: SECURITY[route.access],
    parameters: [
      ...(route.idempotencyKey ? [ref('parameters', 'IdempotencyKey')] : []),
      ref('parameters', 'RequestId'),
    ],
    request: {
      params: route.pathParams && describedParameters(route.pathParams),
      query: route.query && describedParameters(route.query),
      body: route.body && {
        required: true,
        content: {
          'application/json': {
            schema: route.body.schema,
            examples: { default: { summary: 'Seed scenario', value: route.body.example } },
          },
        },
      },
    },
    responses: {
      ...Object.fromEntries(route.responses.map((success) => [success.status, successResponse(success)])),
      ...problemResponses([...route.problems, ...ANY_REQUEST]),
    },
  };
}

function registerComponents(registry: OpenAPIRegistry): void {
  for (const [name, header] of Object.entries(HEADERS)) registry.registerComponent('headers', name, header);
  for (const [name, parameter] of Object.entries(PARAMETERS))
    registry.registerComponent('parameters', name, parameter);
  for (const [name, example] of Object.entries(PROBLEM_EXAMPLES))
    registry.registerComponent('examples', name, example);
  // Any path answers another method so (the info text says it); no operation of its own can.
  registry.registerComponent('responses', 'MethodNotAllowed', {
    description: `\`method_not_allowed\`: ${PROBLEM_EXAMPLES.method_not_allowed.summary}; \`Allow\` lists the methods the path answers.`,
    headers: headerRefs(['Allow']),
    content: {
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/Problem' },
        examples: { method_not_allowed: ref('examples', 'method_not_allowed') },
      },
    },
  });
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A JWT: HS256 signed with JWT_SECRET (the local default), or RS256/ES256/EdDSA from the identity provider at JWT_JWKS_URL. ' +
      'Claims: `sub` = user id (a positive integer up to 2147483647, as a string), `roles` (may contain "admin"), `iat`, `exp`; ' +
      '`iss` / `aud` when JWT_ISSUER / JWT_AUDIENCE are set. Refused (401): a lifetime beyond JWT_MAX_TTL (default 24 h), ' +
      'an `iat` more than 60 s in the future. Locally: `npm run token -- --user 42 [--admin]`.',
  });
}

/** Everything but the paths and components. (openapi3-ts's type lacks 3.1's jsonSchemaDialect; the generator copies it.) */
const DOCUMENT: Parameters<OpenApiGeneratorV31['generateDocument']>[0] & { jsonSchemaDialect: string } = {
  openapi: '3.1.0',
  jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
  info: {
    title: 'Shop API',
    version: API_VERSION,
    description:
      'Orders, products and notifications of Shop, through the gateway. JSON is snake_case; money is a decimal string ' +
      'with two places ("205.48"); timestamps are ISO 8601 UTC. Errors are RFC 9457 `application/problem+json` with a ' +
      'stable `code`; no client input answers 5xx. On any path, a method it does not serve answers 405 ' +
      '`method_not_allowed` with `Allow` (components/responses/MethodNotAllowed), and a header section over 16 KiB answers ' +
      '431 `headers_too_large`. Events are described in the AsyncAPI document (contracts/asyncapi.yaml).',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  // Relative: "Try it out" calls the origin the page came from; an absolute URL is another origin
  // wherever the gateway is not exactly that one, and the page's Content-Security-Policy blocks it.
  servers: [{ url: '/', description: 'The gateway this document is served by' }],
  tags: [
    { name: 'products', description: 'The catalogue and its stock (product-service).' },
    { name: 'orders', description: 'Placing and following orders (order-service).' },
    {
      name: 'notifications',
      description: 'What the notification service recorded from the events (notification-service).',
    },
    { name: 'operations', description: 'Health and metrics, served by every service.' },
    { name: 'docs', description: 'This document and its Swagger UI (gateway).' },
  ],
};

/** Builds the whole OpenAPI 3.1 document; deterministic, so the checked-in copy can be compared. */
export function buildOpenApiDocument() {
  nameSchemas();
  const registry = new OpenAPIRegistry();
  registerComponents(registry);
  for (const route of ROUTE_SPECS) registry.registerPath(routeConfig(route));
  return new OpenApiGeneratorV31([...Object.values(NAMED_SCHEMAS), ...registry.definitions]).generateDocument(
    DOCUMENT,
  );
}
