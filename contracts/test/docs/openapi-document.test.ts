import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import * as contracts from '../../src';
import {
  ChangeOrderStatusBody,
  CreateOrderBody,
  CreateProductBody,
  ErrorCode,
  Health,
  MAX_ITEMS_PER_ORDER,
  MAX_QUANTITY,
  NotificationList,
  Order,
  OrderList,
  PatchProductBody,
  Problem,
  Product,
  ProductList,
  RouteHealth,
  readOpenApiDocument,
} from '../../src';
import { buildOpenApiDocument } from '../../tools';
import { refsIn, resolvePointer, unresolvedRefs } from '../support/json-refs';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SRC = path.join(__dirname, '..', '..', 'src');

const document = buildOpenApiDocument() as Json;
const operations = Object.entries(document.paths as Json).flatMap(([path, methods]) =>
  Object.entries(methods as Json).map(([method, operation]) => ({
    method,
    path,
    operation: operation as Json,
  })),
);
const operation = (method: string, path: string) => document.paths[path]?.[method] as Json;
const deref = (node: Json): Json => (node?.$ref ? deref(resolvePointer(document, node.$ref) as Json) : node);
const problemCodes = (method: string, path: string, status: number): string[] =>
  deref(operation(method, path).responses[status])?.content['application/problem+json'].schema.allOf[1]
    .properties.code.enum ?? [];
/** /health and /health/ready answer 503 with their Health body; every other answer from 400 up is a problem. */
const isProblem = (path: string, status: string) =>
  Number(status) >= 400 && !(path.startsWith('/health') && status === '503');
const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** SPEC §4's table, spelled out independently of the route list the document is built from. */
const SPEC_ROUTES = [
  'GET /api/v1/products',
  'GET /api/v1/products/{id}',
  'POST /api/v1/products',
  'PATCH /api/v1/products/{id}',
  'POST /api/v1/orders',
  'GET /api/v1/orders',
  'GET /api/v1/orders/{id}',
  'PATCH /api/v1/orders/{id}/status',
  'GET /api/v1/orders/health',
  'GET /api/v1/notifications',
  'GET /health',
  'GET /health/ready',
  'GET /metrics',
  'GET /docs',
  'GET /openapi.json',
];

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1.0 on the default (2020-12) JSON Schema dialect, without the jsonSchemaDialect field Swagger UI warns about', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document).not.toHaveProperty('jsonSchemaDialect');
    expect(document.info).toEqual(
      expect.objectContaining({ title: expect.any(String), version: expect.any(String) }),
    );
  });

  it('names its server by a relative URL, so "Try it out" calls whichever host served the page', () => {
    expect(document.servers.map((server: Json) => server.url)).toEqual(['/']);
  });

  it('documents exactly the routes of SPEC §4', () => {
    const documented = operations.map(({ method, path }) => routeKey(method, path));

    expect(documented.sort()).toEqual([...SPEC_ROUTES].sort());
  });

  it('is what the runtime package reads from contracts/openapi.json for the gateway to serve', () => {
    expect(readOpenApiDocument()).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('is built outside the runtime package: nothing in src/ imports the generator or its libraries', () => {
    const sources = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((file) =>
      file.endsWith('.ts'),
    );
    const imports = sources.flatMap((file) =>
      [...readFileSync(path.join(SRC, file), 'utf8').matchAll(/from '([^']+)'/g)].map(
        (match) => `${file}: ${match[1]}`,
      ),
    );

    expect(sources).toContain('index.ts');
    expect(imports.filter((line) => /tools|zod-to-openapi|yaml/.test(line))).toEqual([]);
    expect(contracts).not.toHaveProperty('buildOpenApiDocument');
  });

  it('resolves every $ref', () => {
    expect(refsIn(document).length).toBeGreaterThan(40);
    expect(unresolvedRefs(document)).toEqual([]);
  });

  it('gives every operation an id, a success response and nothing but known error codes', () => {
    const ids = operations.map(({ operation: op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { method, path, operation: op } of operations) {
      const statuses = Object.keys(op.responses);
      expect({
        route: `${method} ${path}`,
        success: statuses.some((status) => /^2\d\d$/.test(status)),
      }).toEqual({ route: `${method} ${path}`, success: true });
      for (const status of statuses.filter((code) => isProblem(path, code))) {
        for (const code of problemCodes(method, path, Number(status)))
          expect(ErrorCode.options).toContain(code);
      }
    }
  });

  it('declares every path parameter of a path, as required', () => {
    for (const { path, operation: op } of operations) {
      const declared = (op.parameters as Json[]).map(deref).filter((parameter) => parameter.in === 'path');
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      expect(declared.map((parameter) => parameter.name)).toEqual(inPath);
      expect(declared.every((parameter) => parameter.required === true)).toBe(true);
    }
  });

  it('uses HTTP bearer JWT auth: product reads, health and docs are public, the rest needs a token', () => {
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    const needsToken = operations
      .filter(({ operation: op }) => op.security.length > 0)
      .map(({ method, path }) => routeKey(method, path));
    expect(needsToken.sort()).toEqual(
      [
        'POST /api/v1/products',
        'PATCH /api/v1/products/{id}',
        'POST /api/v1/orders',
        'GET /api/v1/orders',
        'GET /api/v1/orders/{id}',
        'PATCH /api/v1/orders/{id}/status',
        'GET /api/v1/notifications',
      ].sort(),
    );
    for (const { method, path } of operations.filter(({ operation: op }) => op.security.length > 0)) {
      expect([method, path, problemCodes(method, path, 401)]).toEqual([method, path, ['unauthorized']]);
    }
  });

  it('answers 403 forbidden for admin writes and for an owner changing status other than cancelling', () => {
    expect(problemCodes('post', '/api/v1/products', 403)).toEqual(['forbidden']);
    expect(problemCodes('patch', '/api/v1/products/{id}', 403)).toEqual(['forbidden']);
    expect(problemCodes('patch', '/api/v1/orders/{id}/status', 403)).toEqual(['forbidden']);
  });

  it('documents the errors of SPEC §4 where they apply', () => {
    expect(problemCodes('post', '/api/v1/orders', 400).sort()).toEqual([
      'bad_request',
      'insufficient_stock',
      'malformed_json',
    ]);
    expect(problemCodes('post', '/api/v1/orders', 404)).toEqual(['product_not_found']);
    expect(problemCodes('post', '/api/v1/orders', 409)).toEqual(['idempotency_request_in_flight']);
    expect(problemCodes('post', '/api/v1/orders', 422).sort()).toEqual([
      'idempotency_key_reused',
      'validation_error',
    ]);
    expect(problemCodes('post', '/api/v1/orders', 503)).toContain('product_service_unavailable');
    expect(problemCodes('post', '/api/v1/orders', 504)).toContain('product_service_timeout');
    expect(problemCodes('get', '/api/v1/orders/{id}', 404)).toEqual(['order_not_found']);
    expect(problemCodes('get', '/api/v1/products/{id}', 404)).toEqual(['product_not_found']);
    expect(problemCodes('patch', '/api/v1/orders/{id}/status', 400).sort()).toEqual([
      'bad_request',
      'invalid_status_transition',
      'malformed_json',
    ]);
    // A bad percent-escape in the id (/api/v1/products/%ff) is 400 bad_request, not 404.
    for (const { method, path } of operations.filter(({ path }) => path.includes('{id}'))) {
      expect([method, path, problemCodes(method, path, 400)]).toEqual([
        method,
        path,
        expect.arrayContaining(['bad_request']),
      ]);
    }
    for (const { method, path } of operations.filter(({ operation: op }) => op.requestBody)) {
      expect([
        path,
        problemCodes(method, path, 413),
        problemCodes(method, path, 415),
        problemCodes(method, path, 422),
      ]).toEqual([
        path,
        ['payload_too_large'],
        ['unsupported_media_type'],
        expect.arrayContaining(['validation_error']),
      ]);
    }
    // Everything the gateway serves is rate-limited: /api/v1 per user or address, its own pages per address.
    const viaGateway = operations.filter(
      ({ path }) => path.startsWith('/api/v1/') || ['/health', '/docs', '/openapi.json'].includes(path),
    );
    expect(viaGateway).toHaveLength(13);
    for (const { method, path } of viaGateway) {
      expect([path, problemCodes(method, path, 429)]).toEqual([path, ['rate_limited']]);
      expect(deref(operation(method, path).responses[429]).headers['Retry-After']).toBeDefined();
    }
    // Every route that reads or writes the database may find it gone.
    for (const { method, path } of operations.filter(
      ({ path }) => path.startsWith('/api/v1/') && path !== '/api/v1/orders/health',
    )) {
      expect([path, problemCodes(method, path, 503)]).toEqual([
        path,
        expect.arrayContaining(['database_unavailable']),
      ]);
      expect(deref(operation(method, path).responses[503]).headers['Retry-After']).toBeDefined();
    }
    for (const { method, path } of operations) {
      expect([path, problemCodes(method, path, 431), problemCodes(method, path, 500)]).toEqual([
        path,
        ['headers_too_large'],
        ['internal_error'],
      ]);
    }
  });

  it('answers another method on any path with 405 method_not_allowed and an Allow header', () => {
    const methodNotAllowed = document.components.responses.MethodNotAllowed;

    expect(Object.keys(methodNotAllowed.headers)).toContain('Allow');
    expect(
      deref(methodNotAllowed.content['application/problem+json'].examples.method_not_allowed).value,
    ).toMatchObject({
      status: 405,
      code: 'method_not_allowed',
    });
    expect(document.info.description).toContain('405 `method_not_allowed` with `Allow`');
  });

  it("says the gateway's /metrics is on its internal METRICS_PORT, never on :3000", () => {
    expect(operation('get', '/metrics').description).toMatch(/METRICS_PORT \(default 9400\), never on :3000/);
  });

  it('names each contract schema once and refers to it wherever it is used, with the limits the contract sets', () => {
    const { schemas } = document.components;

    expect(schemas.Order.properties.items.items).toEqual({ $ref: '#/components/schemas/OrderItem' });
    expect(schemas.ProductList.properties.items.items).toEqual({ $ref: '#/components/schemas/Product' });
    expect(schemas.CreateOrderBody.properties.items).toMatchObject({
      items: { $ref: '#/components/schemas/OrderLine' },
      minItems: 1,
      maxItems: MAX_ITEMS_PER_ORDER,
    });
    expect(schemas.OrderLine).toMatchObject({
      additionalProperties: false,
      properties: { quantity: { minimum: 1, maximum: MAX_QUANTITY } },
    });
  });

  it('describes problems as application/problem+json over the Problem schema', () => {
    for (const { operation: op, path } of operations) {
      for (const [status, response] of Object.entries(op.responses).filter(([status]) =>
        isProblem(path, status),
      )) {
        const content = deref(response as Json).content;
        expect([path, status, Object.keys(content)]).toEqual([path, status, ['application/problem+json']]);
        expect(content['application/problem+json'].schema.allOf[0]).toEqual({
          $ref: '#/components/schemas/Problem',
        });
      }
    }
  });

  it('takes POST /orders retries with an Idempotency-Key and answers 201 with a Location', () => {
    const placeOrder = operation('post', '/api/v1/orders');
    const parameters = (placeOrder.parameters as Json[]).map(deref);

    expect(parameters).toContainEqual(
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }),
    );
    expect(Object.keys(placeOrder.responses[201].headers)).toEqual(
      expect.arrayContaining(['Location', 'Idempotent-Replayed']),
    );
    expect(Object.keys(operation('post', '/api/v1/products').responses[201].headers)).toContain('Location');
  });

  it('carries the seed scenario as examples', () => {
    const example = (method: string, path: string, status: number) =>
      operation(method, path).responses[status].content['application/json'].examples.default.value;
    const problemExample = (method: string, path: string, status: number, name: string) =>
      deref(
        deref(operation(method, path).responses[status]).content['application/problem+json'].examples[name],
      ).value;

    expect(example('post', '/api/v1/orders', 201)).toMatchObject({
      total_amount: '205.48',
      status: 'pending',
    });
    expect(
      example('get', '/api/v1/products', 200).items.map((product: Json) => [
        product.name,
        product.price,
        product.stock,
      ]),
    ).toEqual([
      ['Wireless Mouse', '25.99', 100],
      ['Mechanical Keyboard', '153.50', 50],
      ['USB-C Hub', '49.99', 5],
    ]);
    expect(problemExample('get', '/api/v1/products/{id}', 404, 'product_not_found')).toMatchObject({
      code: 'product_not_found',
      status: 404,
    });
    expect(problemExample('post', '/api/v1/orders', 400, 'insufficient_stock')).toMatchObject({
      code: 'insufficient_stock',
      shortages: [{ product_id: 3, requested: 10, available: 5 }],
    });
  });

  it('has examples that satisfy their own contracts', () => {
    const SCHEMAS: Record<string, z.ZodType> = {
      Product,
      ProductList,
      Order,
      OrderList,
      NotificationList,
      RouteHealth,
      Health,
      CreateProductBody,
      PatchProductBody,
      CreateOrderBody,
      ChangeOrderStatusBody,
    };
    const schemaName = (content: Json) =>
      String(content.schema?.$ref ?? '')
        .split('/')
        .pop() ?? '';
    let checked = 0;
    for (const { path, operation: op } of operations) {
      const contents = [
        op.requestBody?.content?.['application/json'],
        ...Object.values(op.responses).map((r) => deref(r as Json).content?.['application/json']),
      ];
      for (const content of contents.filter((entry) => entry?.examples && SCHEMAS[schemaName(entry)])) {
        for (const { value } of Object.values(content.examples as Record<string, { value: unknown }>)) {
          const result = SCHEMAS[schemaName(content)].safeParse(value);
          expect([path, schemaName(content), result.success]).toEqual([path, schemaName(content), true]);
          checked += 1;
        }
      }
    }
    for (const [name, example] of Object.entries(
      document.components.examples as Record<string, { value: unknown }>,
    )) {
      expect([name, Problem.safeParse(example.value).success]).toEqual([name, true]);
    }
    expect(checked).toBeGreaterThanOrEqual(15);
  });
});
