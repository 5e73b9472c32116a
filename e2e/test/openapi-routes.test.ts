import { readOpenApiDocument } from '@shop/contracts';
import { createLogger, createTokenVerifier, parseConfig } from '@shop/platform';
import * as gateway from '@shop/gateway';
import * as notifications from '@shop/notification-service';
import * as orders from '@shop/order-service';
import * as products from '@shop/product-service';
import { routesOf, type RouteEntry } from './support/express-routes';

/**
 * The OpenAPI document is generated from the contracts, the routes are written in express: this
 * keeps the two honest. Every route a service or the gateway serves is in the document the gateway
 * serves (contracts/openapi.json), and every documented route is served by someone.
 */
const logger = createLogger('test', 'error');
const check = async () => ({ status: 'up' as const });
const stub = {} as never;
const tokens = createTokenVerifier({ JWT_SECRET: 'x'.repeat(16) });

function servedRoutes(): RouteEntry[] {
  const gatewayApp = gateway.createApp(parseConfig(gateway.configShape, {}), logger);
  gatewayApp.closeProxies();
  const apps = [
    products.createApp({ products: stub, tokens, logger, health: { database: check, broker: check, outboxLag: check } }),
    orders.createApp({ ...(stub as object), logger, checks: { database: check, outboxLag: check } } as never),
    notifications.createApp({ notifications: stub, tokens, logger, health: { database: check, broker: check } }),
    gatewayApp,
  ];
  const unique = new Map(apps.flatMap(routesOf).map((route) => [key(route), route]));
  return [...unique.values()];
}

const key = (route: RouteEntry) => `${route.method} ${route.path}`;

/** `/api/v1/orders/{id}/status` → `/api/v1/orders/:id/status`. */
const toExpressPath = (openApiPath: string) => openApiPath.replace(/\{(\w+)\}/g, ':$1');

const documentedRoutes = (): RouteEntry[] =>
  Object.entries(readOpenApiDocument().paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => ({ method: method.toUpperCase(), path: toExpressPath(path) })),
  );

describe('the OpenAPI document and the express routers', () => {
  const served = servedRoutes().map(key).sort();
  const documented = documentedRoutes().map(key).sort();

  it('every route a service serves is in the OpenAPI document', () => {
    expect(served.filter((route) => !documented.includes(route))).toEqual([]);
  });

  it('every route in the OpenAPI document is served', () => {
    expect(documented.filter((route) => !served.includes(route))).toEqual([]);
  });
});
