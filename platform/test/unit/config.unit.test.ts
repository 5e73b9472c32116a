import { z } from 'zod';
import { ConfigError, baseConfigShape, outboxConfigShape, outboxRetention, parseConfig } from '../../src/config';

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
