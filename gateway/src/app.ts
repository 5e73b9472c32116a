import express, { type Express } from 'express';
import helmet from 'helmet';
import {
  createTokenVerifier,
  httpMetrics,
  methodNotAllowed,
  notFoundHandler,
  problemHandler,
  requestContext,
  serviceUrls,
  type Logger,
} from '@shop/platform';
import { upstreamsOf, type Config } from './config';
import { apiDocs } from './http/api-docs';
import { aggregateHealth } from './http/health';
import { identify, requireIdentity, requireIdentityForWrites } from './http/identify';
import { addressRateLimit, apiRateLimits } from './http/rate-limit';
import { serviceInstances, type ServiceInstances } from './proxy/instances';
import { serviceProxy } from './proxy/service-proxy';
import { memoryRateLimitStores, type RateLimitStores } from './rate-limit-store/rate-limit-stores';

export type GatewayApp = Express & { closeProxies(): void };

/**
 * The one public entry point (SPEC §1): request ids, security headers, JWT at the edge, rate
 * limits, then a streaming proxy per service. Nothing here parses a body. The limits count in
 * `rateLimits` (start() passes Redis's when REDIS_URL is set; by default each app counts in memory).
 */
export function createApp(
  config: Config,
  logger: Logger,
  rateLimits: RateLimitStores = memoryRateLimitStores(),
): GatewayApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY_HOPS);
  // helmet's default CSP, less `upgrade-insecure-requests`: on a plain-http host other than
  // localhost (a staging box, a LAN address) it rewrote /docs' own scripts to https and the page
  // stayed blank. Behind TLS it adds nothing: every URL the page uses is relative.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.use(requestContext(logger));
  app.use(httpMetrics());
  // No /metrics here: the gateway's are on its internal METRICS_PORT (server.ts), so :3000 answers 404.

  // Each service's instances (one, or several: PRODUCT_SERVICE_URL=http://…:8001,http://…:8011), shared
  // by its proxy, which spreads requests over the healthy ones, and /health, which probes them all.
  const upstreams = Object.fromEntries(
    Object.entries(upstreamsOf(config)).map(([service, urls]) => [
      service,
      serviceInstances({
        service,
        urls: serviceUrls(urls),
        probeTimeoutMs: config.HEALTH_TIMEOUT_MS,
        logger,
      }),
    ]),
  );

  const proxy = (service: string, instances: ServiceInstances) =>
    serviceProxy({ service, instances, timeoutMs: config.PROXY_TIMEOUT_MS, logger });
  const products = proxy('product service', upstreams['product-service']);
  const orders = proxy('order service', upstreams['order-service']);
  const notifications = proxy('notification service', upstreams['notification-service']);

  app.use(
    '/api/v1',
    identify(createTokenVerifier(config)),
    ...apiRateLimits(
      {
        perUser: config.RATE_LIMIT_PER_MINUTE,
        writesPerUser: config.RATE_LIMIT_WRITES_PER_MINUTE,
        anonymous: config.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
      },
      rateLimits,
    ),
  );
  app.use('/api/v1/products', requireIdentityForWrites, products.handler);
  // GET /api/v1/orders/health is public (SPEC §4); everything else about orders needs a user.
  app.get('/api/v1/orders/health', orders.handler);
  app.use('/api/v1/orders', requireIdentity, orders.handler);
  app.use('/api/v1/notifications', requireIdentity, notifications.handler);

  // The gateway's own pages, limited per client address (/health also answers from a short cache).
  // After the proxies: their paths never meet, and a proxied request then passes none of these layers.
  const pagesLimit = addressRateLimit(config.RATE_LIMIT_ANONYMOUS_PER_MINUTE, rateLimits);
  app.use(['/docs', '/openapi.json'], pagesLimit);
  app.use(apiDocs());
  app.get('/health', pagesLimit, aggregateHealth(upstreams, config.HEALTH_CACHE_MS, rateLimits.healthChecks));

  // The gateway's own paths (/health, /openapi.json) answer 405 for other methods; proxied ones never get here.
  app.use(methodNotAllowed(app));
  app.use(notFoundHandler);
  app.use(problemHandler(logger));

  return Object.assign(app, {
    closeProxies: () =>
      [products, orders, notifications, ...Object.values(upstreams)].forEach((entry) => entry.close()),
  });
}
