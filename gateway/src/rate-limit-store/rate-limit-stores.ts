import type { Store } from 'express-rate-limit';
import type { HealthCheck, Logger } from '@shop/platform';
import type { Config } from '../config';
import { CountWithFallback } from './count-with-fallback';
import { RedisCountStore } from './redis-count-store';
import { connectRedis } from './redis-connection';

/**
 * Redis answers a count in well under a millisecond; one that takes longer than this marks Redis lost
 * (counted in memory, and later counts too until Redis answers a probe), so a hung Redis adds this
 * to the requests in flight when it stops answering, not to every request.
 */
const REDIS_COUNT_TIMEOUT_MS = 500;

/** Where the gateway's rate limiters keep their counts. */
export interface RateLimitStores {
  /** The store for the limiter `limiter` (undefined: express-rate-limit's own, in memory). */
  storeFor(limiter: string): Store | undefined;
  /** Checks /health adds to the services' answers. */
  healthChecks: Record<string, HealthCheck>;
  /** Settles when the stores can count: at once in memory; with Redis, after its first connection attempt. */
  ready: Promise<void>;
  close(): void;
}

/** Each instance counts alone, in its memory (no REDIS_URL). */
export const memoryRateLimitStores = (): RateLimitStores => ({
  storeFor: () => undefined,
  healthChecks: {},
  ready: Promise.resolve(),
  close: () => undefined,
});

/**
 * In Redis at `REDIS_URL`, shared by every gateway instance that uses it with the same
 * RATE_LIMIT_REDIS_PREFIX (each limiter under its own name below it); in memory when it is unset.
 */
export function rateLimitStores(
  config: Pick<Config, 'REDIS_URL' | 'RATE_LIMIT_REDIS_PREFIX'>,
  logger: Logger,
): RateLimitStores {
  if (!config.REDIS_URL) return memoryRateLimitStores();
  const redis = connectRedis(config.REDIS_URL, logger);
  return {
    storeFor: (limiter) => {
      const prefix = `${config.RATE_LIMIT_REDIS_PREFIX}${limiter}:`;
      const shared = new RedisCountStore({ prefix, sendCommand: redis.sendCommand });
      return new CountWithFallback(prefix, shared, redis.reachability, REDIS_COUNT_TIMEOUT_MS);
    },
    healthChecks: { 'rate-limits': redis.reachability.check },
    ready: redis.firstAttempt,
    close: redis.close,
  };
}
