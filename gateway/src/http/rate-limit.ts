import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit, type RateLimitInfo } from 'express-rate-limit';
import { AppError, type Identity } from '@shop/platform';
import type { RateLimitStores } from '../rate-limit-store/rate-limit-stores';

const WINDOW_MS = 60_000;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface ApiRateLimits {
  /** Requests a minute per signed-in user; 0 = unlimited. */
  perUser: number;
  /** Writes a minute per signed-in user, counted apart and on top; 0 = unlimited. */
  writesPerUser: number;
  /** Requests a minute per client address without a valid token; 0 = unlimited. */
  anonymous: number;
}

const identityOf = (res: Response) => res.locals.identity as Identity | undefined;
/** IPv6 addresses are grouped by /56, so one host cannot dodge its limit by rotating addresses. */
const addressKey = (req: Request) => `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
const callerKey = (req: Request, res: Response) => {
  const identity = identityOf(res);
  return identity ? `user:${identity.userId}` : addressKey(req);
};

/**
 * /api limits, fixed one-minute windows (`identify` runs first): a signed-in user has
 * `perUser` requests, of which at most `writesPerUser` may be writes; a caller without a valid
 * token has `anonymous` requests per client address. Over a limit → 429 rate_limited
 * problem+json with Retry-After, through the one problem handler, and nothing is proxied.
 * Counts are kept in `stores` (Redis, shared by the gateway instances, or memory).
 */
export function apiRateLimits(limits: ApiRateLimits, stores: RateLimitStores): RequestHandler[] {
  const limitOf = (res: Response) => (identityOf(res) ? limits.perUser : limits.anonymous);
  // A limit of 0 is off. A limiter whose limits are all off would only skip every request (no
  // count, no headers) at the cost of its work on each, so it is not mounted (the bench turns all off).
  const limiters: RequestHandler[] = [];
  if (limits.perUser > 0 || limits.anonymous > 0)
    limiters.push(
      fixedWindow({
        name: 'api',
        limit: (_req, res) => limitOf(res),
        skip: (_req, res) => limitOf(res) === 0,
        key: callerKey,
        stores,
      }),
    );
  if (limits.writesPerUser > 0)
    limiters.push(
      fixedWindow({
        name: 'writes',
        limit: () => limits.writesPerUser,
        skip: (req, res) => !identityOf(res) || !WRITES.has(req.method),
        key: callerKey,
        what: 'writes',
        stores,
      }),
    );
  return limiters;
}

/**
 * The gateway's own public pages (/health, /docs, /openapi.json): per client address, one budget
 * for all of them, apart from the /api budget.
 */
export function addressRateLimit(perMinute: number, stores: RateLimitStores): RequestHandler {
  return fixedWindow({
    name: 'pages',
    limit: () => perMinute,
    skip: () => perMinute === 0,
    key: addressKey,
    stores,
  });
}

interface FixedWindow {
  /** Names the policy in the RateLimit headers. */
  name: string;
  limit: (req: Request, res: Response) => number;
  skip: (req: Request, res: Response) => boolean;
  key: (req: Request, res: Response) => string;
  what?: string;
  stores: RateLimitStores;
}

function fixedWindow({ name, limit, skip, key, what = 'requests', stores }: FixedWindow): RequestHandler {
  return rateLimit({
    store: stores.storeFor(name),
    windowMs: WINDOW_MS,
    limit,
    skip,
    keyGenerator: key,
    identifier: name,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, res, next) => {
      const info = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit;
      next(
        new AppError(429, 'rate_limited', `Too many ${what}; at most ${info?.limit ?? limit(req, res)} a minute are allowed.`, {
          headers: { 'Retry-After': String(res.getHeader('Retry-After') ?? Math.ceil(WINDOW_MS / 1000)) },
        }),
      );
    },
  });
}
