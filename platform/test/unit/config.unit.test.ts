import { z } from 'zod';
import {
  ConfigError,
  baseConfigShape,
  brokerConfigShape,
  databaseConfigShape,
  httpPortConfigShape,
  inboxConfigShape,
  outboxConfigShape,
  parseConfig,
} from '../../src/config';

const shape = { ...baseConfigShape, PORT: z.coerce.number().int().min(0).max(65_535).default(8001) };

describe('service configuration', () => {
  it('an empty environment yields defaults that work locally', () => {
    const config = parseConfig(shape, {});

    expect(config.PORT).toBe(8001);
    expect(config.JWT_SECRET.length).toBeGreaterThanOrEqual(16);
  });

  it('bad values are reported together, one line per key', () => {
    const parse = () => parseConfig(shape, { PORT: 'eighty', JWT_SECRET: 'short' });

    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/JWT_SECRET: must be at least 16 characters/);
    expect(parse).toThrow(/PORT: .*expected number/);
  });
});

describe('retention settings', () => {
  it('OUTBOX_RETENTION and INBOX_RETENTION default to a week', () => {
    expect(parseConfig(outboxConfigShape, {}).OUTBOX_RETENTION).toBe(604_800);
    expect(parseConfig(inboxConfigShape, {}).INBOX_RETENTION).toBe(604_800);
  });

  it('an INBOX_RETENTION under a day is refused with the reason', () => {
    const parse = () => parseConfig(inboxConfigShape, { INBOX_RETENTION: '3600' });

    expect(parse).toThrow(/INBOX_RETENTION: must be at least 86400 seconds \(one day\)/);
    expect(parseConfig(inboxConfigShape, { INBOX_RETENTION: '86400' }).INBOX_RETENTION).toBe(86_400);
  });
});

describe('the keys services share', () => {
  const serviceShape = {
    ...httpPortConfigShape(8009, 'test service'),
    ...databaseConfigShape('shop_tests', 'test', { size: 7, usedBy: 'HTTP' }),
    ...brokerConfigShape,
  };

  it("default to the service's own port, its database on the local Postgres and the local RabbitMQ", () => {
    const config = parseConfig(serviceShape, {});

    expect(config).toEqual({
      PORT: 8009,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/shop_tests',
      DATABASE_POOL_SIZE: 7,
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
      BROKER_STARTUP_WAIT_MS: 5_000,
    });
  });

  it('describe themselves once, naming the service where the default is its own', () => {
    expect(serviceShape.PORT.description).toBe('HTTP port of the test service');
    expect(serviceShape.DATABASE_URL.description).toBe('Postgres connection string of the test database');
  });

  it('a broker or database address that is not a URL stops start-up, naming the key', () => {
    const parse = () => parseConfig(serviceShape, { AMQP_URL: 'rabbitmq', DATABASE_URL: 'shop_tests' });

    expect(parse).toThrow(/AMQP_URL: /);
    expect(parse).toThrow(/DATABASE_URL: /);
  });
});

describe("a service's pool size", () => {
  const budget = {
    size: 12,
    usedBy: 'HTTP and a consumer',
    fewest: { size: 2, because: 'a listener holds one for good' },
  };
  const shape = databaseConfigShape('shop_tests', 'test', budget);

  it("defaults to the service's budget, and DATABASE_POOL_SIZE overrides it (an empty value means unset)", () => {
    expect(parseConfig(shape, {}).DATABASE_POOL_SIZE).toBe(12);
    expect(parseConfig(shape, { DATABASE_POOL_SIZE: '' }).DATABASE_POOL_SIZE).toBe(12);
    expect(parseConfig(shape, { DATABASE_POOL_SIZE: '3' }).DATABASE_POOL_SIZE).toBe(3);
  });

  it('a pool below the fewest the service can work with stops start-up, saying why', () => {
    const parse = () => parseConfig(shape, { DATABASE_POOL_SIZE: '1' });

    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(
      'Invalid configuration: DATABASE_POOL_SIZE: must be at least 2: a listener holds one for good',
    );
  });

  it('a pool that is not a positive whole number stops start-up, naming the key', () => {
    const plain = databaseConfigShape('shop_tests', 'test', { size: 4, usedBy: 'HTTP' });

    expect(() => parseConfig(plain, { DATABASE_POOL_SIZE: '0' })).toThrow(
      'DATABASE_POOL_SIZE: must be at least 1',
    );
    expect(() => parseConfig(plain, { DATABASE_POOL_SIZE: '2.5' })).toThrow(/DATABASE_POOL_SIZE: /);
    expect(() => parseConfig(plain, { DATABASE_POOL_SIZE: 'many' })).toThrow(/DATABASE_POOL_SIZE: /);
  });

  it('describes what uses the pool and how small it may go', () => {
    expect(shape.DATABASE_POOL_SIZE.description).toBe(
      "Most connections the test service's pg pool opens (HTTP and a consumer); smaller is allowed down to 2, work then waits its turn for a connection (docs/scaling.md)",
    );
  });
});
