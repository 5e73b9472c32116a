import { z } from 'zod';

/**
 * Keys every service shares. Each service extends this with its own keys; every key has a
 * default that works on a developer machine and a description for `.env.example`.
 */
export const baseConfigShape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development').describe('Runtime mode'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'debug']).default('info').describe('winston log level'),
  JWT_SECRET: z
    .string()
    .min(16, 'must be at least 16 characters')
    .default('dev-secret-change-me-please')
    .describe('HS256 secret that signs and verifies access tokens'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000).describe('Grace period on SIGTERM'),
};

/** Keys of a service that publishes through an outbox (order and product services). */
export const outboxConfigShape = {
  OUTBOX_MAX_LAG: z.coerce
    .number()
    .positive()
    .default(60)
    .describe('Seconds the oldest unpublished outbox event may wait before /health/ready answers 503'),
  OUTBOX_RETENTION: z.coerce
    .number()
    .int()
    .positive()
    .default(7 * 24 * 3600)
    .describe('Seconds a published outbox row is kept before the relay deletes it'),
};

/** The relay's retention from OUTBOX_RETENTION (checked hourly, or as often as the period if shorter). */
export function outboxRetention(config: { OUTBOX_RETENTION: number }): { keepMs: number; everyMs: number } {
  const keepMs = config.OUTBOX_RETENTION * 1000;
  return { keepMs, everyMs: Math.min(keepMs, 3_600_000) };
}

export class ConfigError extends Error {}

/**
 * Parses the environment with the service's schema. On failure it throws one ConfigError whose
 * message lists every bad key, so start-up can print it and exit 1.
 */
export function parseConfig<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** Used by a service's main: a bad config prints one clear message and exits 1. */
export function loadConfigOrExit<S extends z.ZodRawShape>(service: string, shape: S): z.infer<z.ZodObject<S>> {
  try {
    return parseConfig(shape);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${service}: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
