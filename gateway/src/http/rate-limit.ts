import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { AppError, type Identity } from '@shop/platform';

const WINDOW_MS = 60_000;

/**
 * Fixed one-minute window per caller: the user id when a valid token came with the request
 * (`identify` runs first), the client address otherwise (IPv6 grouped by /56 so one host cannot
 * dodge the limit by rotating addresses). Over the limit → 429 rate_limited problem+json with
 * Retry-After, through the one problem handler.
 */
export function rateLimiter(perMinute: number): RequestHandler {
  if (perMinute === 0) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req, res) => {
      const identity = res.locals.identity as Identity | undefined;
      return identity ? `user:${identity.userId}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
    },
    handler: (_req, res, next) =>
      next(
        new AppError(429, 'rate_limited', `Too many requests; at most ${perMinute} a minute are allowed.`, {
          headers: { 'Retry-After': String(res.getHeader('Retry-After') ?? Math.ceil(WINDOW_MS / 1000)) },
        }),
      ),
  });
}
