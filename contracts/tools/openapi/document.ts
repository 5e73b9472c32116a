import {
  OpenApiGeneratorV31,
  OpenAPIRegistry,
  zodToOpenAPIRegistry,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { Problem } from '../../src/common';
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
import { CreateProductBody, PatchProductBody, Product, ProductList } from '../../src/products';
import { PROBLEM_EXAMPLES, type ProblemExampleName } from '../examples';
import { HEADERS, headerRefs, problems, ref } from './parts';
import { ROUTES, type Access, type Route } from './routes';

/**
 * The OpenAPI 3.1 document of the public API (SPEC §4), generated with zod-to-openapi from the
 * route table (routes.ts) and the zod contracts it names. A build-time tool: `npm run docs:generate`
 * writes contracts/openapi.json, which the gateway serves.
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
  for (const [refId, schema] of Object.entries(NAMED_SCHEMAS)) {
    zodToOpenAPIRegistry.add(schema, { _internal: { refId } });
  }
};

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

/** What every operation has besides its own: its access, the request id, the problems any request can get. */
const withCommonParts = (route: Route): RouteConfig => ({
  ...route,
  description: `${route.description}\n\n${ACCESS_NOTE[route['x-access']]}`,
  security: SECURITY[route['x-access']],
  parameters: [...(route.parameters ?? []), ref('parameters', 'RequestId')],
  responses: { ...route.responses, ...problems(...ANY_REQUEST) },
});

function registerComponents(registry: OpenAPIRegistry): void {
  for (const [name, header] of Object.entries(HEADERS)) registry.registerComponent('headers', name, header);
  registry.registerComponent('parameters', 'RequestId', {
    name: 'X-Request-Id',
    in: 'header',
    required: false,
    description:
      'Your id for this request (1–128 of `A–Z a–z 0–9 _ . : -`); echoed back and logged by every service.',
    schema: { type: 'string', pattern: '^[\\w.:-]{1,128}$' },
  });
  registry.registerComponent('parameters', 'IdempotencyKey', {
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
  });
  for (const [name, example] of Object.entries(PROBLEM_EXAMPLES)) {
    registry.registerComponent('examples', name, example);
  }
  // Any path answers another method so (the info text says it); no documented operation can.
  registry.registerComponent('responses', 'MethodNotAllowed', {
    description: `\`method_not_allowed\`: ${PROBLEM_EXAMPLES.method_not_allowed.summary}; \`Allow\` lists the methods the path answers.`,
    headers: headerRefs(['Allow']),
    content: {
      'application/problem+json': {
        schema: ref('schemas', 'Problem'),
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

/**
 * Everything but the paths and components. No `jsonSchemaDialect`: OpenAPI 3.1's default dialect is
 * already JSON Schema 2020-12 (with OpenAPI's vocabulary), and Swagger UI shows a red "not supported"
 * warning at the top of /docs for the field.
 */
const DOCUMENT: Parameters<OpenApiGeneratorV31['generateDocument']>[0] = {
  openapi: '3.1.0',
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
  for (const route of ROUTES) registry.registerPath(withCommonParts(route));
  return new OpenApiGeneratorV31([...Object.values(NAMED_SCHEMAS), ...registry.definitions]).generateDocument(
    DOCUMENT,
  );
}
