import { ConfigError, parseConfig } from '@shop/platform';
import { configShape } from '../../src/config';

describe("the notification service's pool size", () => {
  it('when DATABASE_POOL_SIZE is unset, the pool is the budget: 20 consumer transactions at once + 2 for HTTP', () => {
    const config = parseConfig(configShape, {});

    expect(config.DATABASE_POOL_SIZE).toBe(22);
  });

  it('when DATABASE_POOL_SIZE is set, that is the pool size, whatever the prefetch', () => {
    const config = parseConfig(configShape, { DATABASE_POOL_SIZE: '8', CONSUMER_PREFETCH: '50' });

    expect(config.DATABASE_POOL_SIZE).toBe(8);
    expect(config.CONSUMER_PREFETCH).toBe(50);
  });

  it('a pool smaller than the prefetch is allowed (deliveries wait their turn for a connection); a pool of 0 stops start-up', () => {
    expect(
      parseConfig(configShape, { DATABASE_POOL_SIZE: '1', CONSUMER_PREFETCH: '20' }).DATABASE_POOL_SIZE,
    ).toBe(1);
    expect(() => parseConfig(configShape, { DATABASE_POOL_SIZE: '0' })).toThrow(ConfigError);
    expect(() => parseConfig(configShape, { DATABASE_POOL_SIZE: '0' })).toThrow(
      'Invalid configuration: DATABASE_POOL_SIZE: must be at least 1',
    );
  });
});
