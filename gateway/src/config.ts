import { z } from 'zod';
import { baseConfigShape } from '@shop/platform';

const serviceUrl = (port: number, what: string) => z.url().default(`http://127.0.0.1:${port}`).describe(`Base URL of the ${what}`);

export const configShape = {
  ...baseConfigShape,
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000).describe('HTTP port of the gateway'),
  PRODUCT_SERVICE_URL: serviceUrl(8001, 'product service'),
  ORDER_SERVICE_URL: serviceUrl(8002, 'order service'),
  NOTIFICATION_SERVICE_URL: serviceUrl(8004, 'notification service'),
  RATE_LIMIT_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(0)
    .default(6000)
    .describe('Requests per minute per user (or per IP when anonymous) on /api; 0 turns rate limiting off'),
  PROXY_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000).describe('How long the gateway waits for a service to answer'),
  HEALTH_TIMEOUT_MS: z.coerce.number().int().positive().default(1_500).describe("How long /health waits for each service's /health"),
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
