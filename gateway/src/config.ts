import { z } from 'zod';
import { baseConfigShape, httpPortConfigShape, portSchema, serviceUrlsSchema } from '@shop/platform';

const perMinute = (fallback: number, what: string) =>
  z.coerce.number().int().min(0).default(fallback).describe(`${what}; 0 turns this limit off`);
/** Compose and .env files pass unset keys as empty strings; those mean "not set". */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema);
const serviceUrl = (port: number, what: string) =>
  serviceUrlsSchema(`http://127.0.0.1:${port}`).describe(
    `Base URL of the ${what}; several, comma-separated, for its instances (requests are spread over the healthy ones)`,
  );

export const configShape = {
  ...baseConfigShape,
  ...httpPortConfigShape(3000, 'gateway'),
  PRODUCT_SERVICE_URL: serviceUrl(8001, 'product service'),
  ORDER_SERVICE_URL: serviceUrl(8002, 'order service'),
  NOTIFICATION_SERVICE_URL: serviceUrl(8004, 'notification service'),
  METRICS_PORT: portSchema(9400).describe(
    "Internal port of the gateway's GET /metrics (never served on PORT): let Prometheus reach it, never publish it",
  ),
  METRICS_HOST: z
    .string()
    .min(1)
    .default('0.0.0.0')
    .describe('Address the metrics port binds to (0.0.0.0 so Prometheus can reach a container; 127.0.0.1 for this host only)'),
  RATE_LIMIT_PER_MINUTE: perMinute(600, 'Requests per minute per signed-in user on /api'),
  RATE_LIMIT_WRITES_PER_MINUTE: perMinute(60, 'Writes (POST, PUT, PATCH, DELETE) per minute per user on /api, on top of the limit above'),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: perMinute(
    120,
    'Requests per minute per client address without a valid token on /api, and again (a separate budget) on /health, /docs, /openapi.json',
  ),
  REDIS_URL: unsetIfEmpty(z.url({ protocol: /^rediss?$/ }).optional()).describe(
    'Redis that keeps the rate limits, so they hold across gateway instances (redis://host:6379); unset, each instance counts in memory',
  ),
  RATE_LIMIT_REDIS_PREFIX: z
    .string()
    .min(1)
    .default('shop:rate-limit:')
    .describe('Prefix of the rate-limit keys in REDIS_URL; give each Shop system on one Redis its own'),
  PROXY_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000).describe('How long the gateway waits for a service to answer'),
  HEALTH_TIMEOUT_MS: z.coerce.number().int().positive().default(1_500).describe("How long /health waits for each service's /health"),
  HEALTH_CACHE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(1_000)
    .describe('How long /health reuses its last answer, so a flood of calls asks the services at most once per interval; 0 reuses none'),
  TRUST_PROXY_HOPS: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('Reverse proxies in front of the gateway whose X-Forwarded-For is trusted (for per-IP limits)'),
};

export type Config = z.infer<z.ZodObject<typeof configShape>>;

/** The services behind the gateway, by the name /health reports them under. */
export function upstreamsOf(config: Config) {
  return {
    'product-service': config.PRODUCT_SERVICE_URL,
    'order-service': config.ORDER_SERVICE_URL,
    'notification-service': config.NOTIFICATION_SERVICE_URL,
  };
}
