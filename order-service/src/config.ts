import { z } from 'zod';
import { baseConfigShape, outboxConfigShape } from '@shop/platform';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');

export const configShape = {
  ...baseConfigShape,
  PORT: z.coerce.number().int().min(0).max(65_535).default(8002).describe('HTTP port of the order service'),
  DATABASE_URL: z
    .string()
    .url()
    .default('postgres://postgres@127.0.0.1:5432/shop_orders')
    .describe('Postgres database of the order service'),
  DATABASE_POOL_SIZE: z.coerce
    .number()
    .int()
    .positive()
    .default(10)
    .describe('Connections in the pg pool of the hot paths (placing orders, consuming events, the relay)'),
  AMQP_URL: z.string().default('amqp://guest:guest@127.0.0.1:5672').describe('RabbitMQ connection URL'),
  PRODUCT_SERVICE_URL: z
    .string()
    .url()
    .default('http://127.0.0.1:8001')
    .describe('Base URL of the product service (catalogue lookups when placing an order)'),
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
  BROKER_STARTUP_WAIT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(5_000)
    .describe(
      'At start, wait this long for the inventory consumer to attach (queue declared) before serving anyway',
    ),
  RELAY_ENABLED: bool(true).describe(
    'Run the outbox relay inside the HTTP process (false: run `npm run relay`)',
  ),
  ...outboxConfigShape,
  CONSUMERS_ENABLED: bool(true).describe('Consume order-service.inventory inside the HTTP process'),
};

export type Config = z.infer<z.ZodObject<typeof configShape>>;
