import type { Express } from 'express';
import {
  createServiceApp,
  type ServiceChecks,
  type Logger,
  type Metrics,
  type TokenVerifier,
} from '@shop/platform';
import type { ProductRepository } from './db/product-repository';
import { productRoutes } from './http/products.routes';

export interface AppDeps {
  products: ProductRepository;
  tokens: TokenVerifier;
  logger: Logger;
  /** `outboxLag` (readiness only): down when the oldest unpublished event is older than OUTBOX_MAX_LAG. */
  health: ServiceChecks;
  /** Default: the process registry. */
  metrics?: Metrics;
}

/** The HTTP app without a listener, so tests drive it in-process. */
export function createApp(deps: AppDeps): Express {
  return createServiceApp({
    service: 'product-service',
    logger: deps.logger,
    metrics: deps.metrics,
    checks: deps.health,
    routes: { '/api/v1/products': productRoutes({ products: deps.products, tokens: deps.tokens }) },
  });
}
