import { z } from 'zod';
import { brokerUrls } from './messaging/broker-connection';
import { urlListSchema } from './url-list';

/** The development secret: published in this repository, so anyone can sign tokens with it. */
export const PUBLISHED_DEV_SECRET = 'dev-secret-change-me-please';
/** 256 bits, as RFC 7518 asks of an HS256 key, if each character carried only one byte of it. */
const PRODUCTION_SECRET_MIN_LENGTH = 32;

/** Compose and .env files pass unset keys as empty strings; those mean "use the default". */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema);

/**
 * Keys every service shares. Each service extends this with its own keys; every key has a
 * default that works on a developer machine and a description for `.env.example`.
 */
export const baseConfigShape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development').describe('Runtime mode'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'debug']).default('info').describe('winston log level'),
  JWT_SECRET: unsetIfEmpty(
    z.string().min(16, 'must be at least 16 characters').default(PUBLISHED_DEV_SECRET),
  ).describe(
    `HS256 secret that signs and verifies access tokens (production: ${PRODUCTION_SECRET_MIN_LENGTH}+ random characters, or set JWT_JWKS_URL)`,
  ),
  JWT_JWKS_URL: unsetIfEmpty(z.url({ protocol: /^https?$/ }).optional()).describe(
    "Identity provider's JWKS URL; when set, only its keys verify tokens (RS256/ES256/EdDSA), JWT_SECRET is not used",
  ),
  JWT_ISSUER: unsetIfEmpty(z.string().optional()).describe('When set, every token must carry this `iss`'),
  JWT_AUDIENCE: unsetIfEmpty(z.string().optional()).describe('When set, every token must carry this `aud`'),
  JWT_MAX_TTL: unsetIfEmpty(
    z.coerce
      .number()
      .int()
      .positive()
      .default(24 * 3600),
  ).describe('Longest token lifetime (exp − iat) accepted, in seconds'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000).describe('Grace period on SIGTERM'),
};

/** A TCP port to listen on; 0 picks a free one (as the tests do). */
export const portSchema = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);

/** PORT: each service has its own default, so the key is made per service (`service` names it). */
export const httpPortConfigShape = (fallback: number, service: string) => ({
  PORT: portSchema(fallback).describe(`HTTP port of the ${service}`),
});

/**
 * How a service sizes its pg pool (docs/scaling.md, "Postgres connections"). `size` is the default:
 * the most connections the service's work can use at once, summed where the service chooses it.
 * `fewest` is the smallest pool that still makes progress, when that is more than 1 because
 * something holds one of the pool's connections for as long as the service runs (the outbox relay's
 * LISTEN); a smaller one is refused at start-up. Any size in between is allowed: work waits its turn
 * for a connection (the pool serves waiters first come, first served), so it is slower, not wrong.
 */
export interface PoolBudget {
  size: number;
  /** What takes connections from the pool, for the key's description. */
  usedBy: string;
  fewest?: { size: number; because: string };
}

/** Keys of a service that owns a Postgres database, by default `database` on the local server. */
export const databaseConfigShape = (database: string, owner: string, pool: PoolBudget) => {
  const fewest = pool.fewest?.size ?? 1;
  return {
    DATABASE_URL: z
      .url()
      .default(`postgres://postgres@127.0.0.1:5432/${database}`)
      .describe(`Postgres connection string of the ${owner} database`),
    DATABASE_POOL_SIZE: unsetIfEmpty(
      z.coerce
        .number()
        .int()
        .min(
          fewest,
          pool.fewest ? `must be at least ${fewest}: ${pool.fewest.because}` : `must be at least ${fewest}`,
        )
        .default(pool.size),
    ).describe(
      `Most connections the ${owner} service's pg pool opens (${pool.usedBy}); smaller is allowed down to ${fewest}, work then waits its turn for a connection (docs/scaling.md)`,
    ),
  };
};

/** Keys of a service on RabbitMQ (its createServiceMessaging): where the broker is, how long start-up waits. */
export const brokerConfigShape = {
  AMQP_URL: urlListSchema('amqp://guest:guest@127.0.0.1:5672', brokerUrls).describe(
    'RabbitMQ connection string; several, comma-separated, for the nodes of a cluster (the service fails over between them)',
  ),
  BROKER_STARTUP_WAIT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(5_000)
    .describe(
      'How long start-up waits for RabbitMQ before serving anyway (consumers attach when it arrives)',
    ),
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
    .describe(
      "Seconds outbox rows are kept: a day's partition is dropped once all its rows are this old (never while one is unpublished)",
    ),
};

/** The shortest INBOX_RETENTION: see inboxConfigShape. */
export const MIN_INBOX_RETENTION_SECONDS = 24 * 3600;

/**
 * Keys of a service that consumes events. Deduplication and order never depend on the inbox's log
 * (each stream's place is kept for good, inbox_streams); the log is where a consumer finds an event's
 * cause. So it must outlast the longest time between a cause taking effect here and its effect
 * arriving — a producer's backlog or outage — and a redelivery of an event consumed before the
 * upgrade that recorded places (decision 36): a day at least, a week by default.
 */
export const inboxConfigShape = {
  INBOX_RETENTION: z.coerce
    .number()
    .int()
    .min(MIN_INBOX_RETENTION_SECONDS, {
      message: `must be at least ${MIN_INBOX_RETENTION_SECONDS} seconds (one day): an event's cause is looked up in the inbox's log (decision 36)`,
    })
    .default(7 * 24 * 3600)
    .describe(
      "Seconds the inbox's log of consumed events is kept (at least one day): a day's partition is dropped once all its rows are this old",
    ),
};

/**
 * Keys of a service's events consumer: how many deliveries it works on at once, and how many of
 * those that arrive together share one transaction (`createConsumer`'s `batch`; 1 turns it off).
 */
export const consumerConfigShape = (defaults: { prefetch: number; batchSize: number }) => ({
  CONSUMER_PREFETCH: z.coerce
    .number()
    .int()
    .positive()
    .default(defaults.prefetch)
    .describe('Unacked events the consumer works on at once'),
  CONSUMER_BATCH_SIZE: z.coerce
    .number()
    .int()
    .positive()
    .default(defaults.batchSize)
    .describe('Most events that arrived together applied in one transaction; 1 applies each on its own'),
});

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
  const issues = result.success
    ? productionSecretIssues(result.data)
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (issues.length === 1) throw new ConfigError(`Invalid configuration: ${issues[0]}`);
  if (issues.length > 1)
    throw new ConfigError(`Invalid configuration:\n${issues.map((issue) => `  ${issue}`).join('\n')}`);
  return result.data!;
}

/**
 * SPEC §4: in production the HS256 secret is the only thing between anyone and an admin token, so
 * a missing (defaulted), published or short one stops start-up, unless an identity provider's
 * keys (JWT_JWKS_URL) verify tokens instead.
 */
function productionSecretIssues(config: Record<string, unknown>): string[] {
  if (config.NODE_ENV !== 'production' || typeof config.JWT_SECRET !== 'string' || config.JWT_JWKS_URL)
    return [];
  if (config.JWT_SECRET === PUBLISHED_DEV_SECRET) {
    return [
      `JWT_SECRET: unset or the published development default; production needs a random secret of at least ${PRODUCTION_SECRET_MIN_LENGTH} characters (or JWT_JWKS_URL)`,
    ];
  }
  if (config.JWT_SECRET.length < PRODUCTION_SECRET_MIN_LENGTH) {
    return [
      `JWT_SECRET: too short for production; it needs at least ${PRODUCTION_SECRET_MIN_LENGTH} random characters (or JWT_JWKS_URL)`,
    ];
  }
  return [];
}

/** Used by a service's main: a bad config prints one clear message and exits 1. */
export function loadConfigOrExit<S extends z.ZodRawShape>(
  service: string,
  shape: S,
): z.infer<z.ZodObject<S>> {
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
