import { ConfigError, parseConfig } from '@shop/platform';
import { configShape } from '../../src/config';

describe("the product service's pool size", () => {
  it('when DATABASE_POOL_SIZE is unset, the pool is the budget: 10 order events + the relay’s LISTEN + 2 relay batches + 2 for HTTP', () => {
    const config = parseConfig(configShape, {});

    expect(config.DATABASE_POOL_SIZE).toBe(15);
  });

  it('when DATABASE_POOL_SIZE is set, that is the pool size', () => {
    const config = parseConfig(configShape, { DATABASE_POOL_SIZE: '40' });

    expect(config.DATABASE_POOL_SIZE).toBe(40);
  });

  it('a pool of 2, below the consumer’s prefetch, is allowed: work waits its turn for a connection', () => {
    const config = parseConfig(configShape, { DATABASE_POOL_SIZE: '2' });

    expect(config.DATABASE_POOL_SIZE).toBe(2);
  });

  it('a pool of 1 stops start-up, because the relay’s LISTEN would hold the only connection for good', () => {
    const parse = () => parseConfig(configShape, { DATABASE_POOL_SIZE: '1' });

    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(
      "Invalid configuration: DATABASE_POOL_SIZE: must be at least 2: the outbox relay's LISTEN holds one of the pool's connections for as long as the service runs, and everything else needs another",
    );
  });
});
