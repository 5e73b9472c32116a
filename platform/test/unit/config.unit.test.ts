import { z } from 'zod';
import {
  ConfigError,
  baseConfigShape,
  brokerConfigShape,
  databaseConfigShape,
  httpPortConfigShape,
  outboxConfigShape,
  outboxRetention,
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

describe('outbox settings', () => {
  it('OUTBOX_RETENTION is how long the relay keeps published rows, checked at least hourly', () => {
    const week = parseConfig(outboxConfigShape, {});
    const minute = parseConfig(outboxConfigShape, { OUTBOX_RETENTION: '60' });

    expect(outboxRetention(week)).toEqual({ keepMs: 604_800_000, everyMs: 3_600_000 });
    expect(outboxRetention(minute)).toEqual({ keepMs: 60_000, everyMs: 60_000 });
  });
});

describe('the keys services share', () => {
  const serviceShape = {
    ...httpPortConfigShape(8009, 'test service'),
    ...databaseConfigShape('shop_tests', 'test'),
    ...brokerConfigShape,
  };

  it("default to the service's own port, its database on the local Postgres and the local RabbitMQ", () => {
    const config = parseConfig(serviceShape, {});

    expect(config).toEqual({
      PORT: 8009,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/shop_tests',
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
