import { z } from 'zod';
import {
  baseConfigShape,
  brokerConfigShape,
  inboxConfigShape,
  databaseConfigShape,
  httpPortConfigShape,
  outboxConfigShape,
  serviceUrlsSchema,
  type PoolBudget,
} from '@shop/platform';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');

/**
 * The order service's Postgres connections, per instance (docs/scaling.md):
 *     10  inventory events in flight (createConsumer's default prefetch), one transaction each
 *   +  2  HTTP: a request and the readiness probe's SELECT 1 run without waiting while the
 *         consumer is at its limit
 *   = 12 in the service's pool. The timer consumer (order-service.timers, 2 in flight) borrows from
 *         it too: one timer per order, due minutes after it was placed, so rarely at the same moment
 *         as a burst of inventory events; when it is, it waits for a connection, never fails.
 * The in-process outbox relay (RELAY_ENABLED) has a pool of its own, and so has `npm run relay`:
 * 3 = 1 LISTEN + RELAY_DEFAULTS.pipeline (2) claiming transactions, fixed in the platform
 * (createOutboxRelay given a URL) at what the relay can use: a bigger pool would sit idle, a smaller
 * one would stall its pipeline. So it is derived, not a key. The service's total is
 * DATABASE_POOL_SIZE + 3.
 */
export const POOL_BUDGET: PoolBudget = {
  size: 10 + 2,
  usedBy: 'HTTP and the inventory consumer; the outbox relay has its own 3',
};

export const configShape = {
  ...baseConfigShape,
  ...httpPortConfigShape(8002, 'order service'),
  ...databaseConfigShape('shop_orders', 'order', POOL_BUDGET),
  ...brokerConfigShape,
  ...inboxConfigShape,
  PRODUCT_SERVICE_URL: serviceUrlsSchema('http://127.0.0.1:8001').describe(
    'Base URL of the product service (catalogue lookups when placing an order); several, comma-separated, for its instances (calls are spread over them; a call one cannot answer — unreachable, reset, hung — goes to the next within the same timeout, and that one is tried last for 5 s)',
  ),
  PRODUCT_SERVICE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(2_000)
    .describe('Timeout of one product-service call; beyond it the order answers 504'),
  PRODUCT_BREAKER_RESET_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('How long the product-service circuit breaker stays open before it tries again'),
  PRODUCT_BREAKER_ERROR_PERCENT: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(50)
    .describe('Failure percentage (within the rolling window) that opens the product-service breaker'),
  ORDER_REQUEST_DEADLINE_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe(
      "The longest a POST /orders may take: the product call gets only what is left of it, a request past it gives up without writing, and an Idempotency-Key claim older than it (a crashed request's) is taken over by a retry",
    ),
  ORDER_PENDING_TTL: z.coerce
    .number()
    .int()
    .positive()
    .default(900)
    .describe(
      'Seconds after which an order still pending is cancelled with reason reservation_expired and its stock released (its timer is a scheduled outbox row)',
    ),
  RELAY_ENABLED: bool(true).describe(
    'Run the outbox relay inside the HTTP process (false: run `npm run relay`)',
  ),
  ...outboxConfigShape,
  CONSUMERS_ENABLED: bool(true).describe(
    'Consume order-service.inventory and order-service.timers inside the HTTP process',
  ),
};

export type Config = z.infer<z.ZodObject<typeof configShape>>;
