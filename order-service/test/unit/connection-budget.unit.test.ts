import { ConfigError, parseConfig } from '@shop/platform';
import { configShape } from '../../src/config';

describe("the order service's pool size", () => {
  it('when DATABASE_POOL_SIZE is unset, the pool is the budget: 10 inventory events + 2 for HTTP (the relay has its own)', () => {
    const config = parseConfig(configShape, {});

    expect(config.DATABASE_POOL_SIZE).toBe(12);
  });

  it('when DATABASE_POOL_SIZE is set, that is the pool size, down to 1 (below the consumer’s prefetch, work waits its turn)', () => {
    expect(parseConfig(configShape, { DATABASE_POOL_SIZE: '30' }).DATABASE_POOL_SIZE).toBe(30);
    expect(parseConfig(configShape, { DATABASE_POOL_SIZE: '1' }).DATABASE_POOL_SIZE).toBe(1);
  });

  it('a pool of 0 stops start-up, naming the key', () => {
    const parse = () => parseConfig(configShape, { DATABASE_POOL_SIZE: '0' });

    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow('Invalid configuration: DATABASE_POOL_SIZE: must be at least 1');
  });
});
