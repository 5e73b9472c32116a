import { z } from 'zod';
import { ConfigError, baseConfigShape, parseConfig } from '../../src/config';

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
