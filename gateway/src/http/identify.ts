import type { RequestHandler } from 'express';
import { AppError, bearerToken, type TokenVerifier } from '@shop/platform';

/**
 * Edge authentication in two steps. `identify` verifies a bearer token if one is sent (so the
 * rate limiter can count per user) but lets anonymous requests through; `requireIdentity` then
 * turns away, with 401 and before anything is proxied, requests to routes that need a user.
 * The Authorization header itself travels on unchanged: every service verifies it again.
 */
export function identify(tokens: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (req.headers.authorization !== undefined && !token) {
      res.locals.authError = new AppError(401, 'unauthorized', 'The Authorization header must be "Bearer <token>".', {
        headers: { 'WWW-Authenticate': 'Bearer error="invalid_request"' },
      });
      return next();
    }
    if (!token) return next();
    try {
      res.locals.identity = await tokens.verify(token);
    } catch (error) {
      res.locals.authError = error;
    }
    next();
  };
}

export const requireIdentity: RequestHandler = (_req, res, next) => {
  if (res.locals.identity) return next();
  next(
    res.locals.authError ??
      new AppError(401, 'unauthorized', 'A bearer token is required.', { headers: { 'WWW-Authenticate': 'Bearer' } }),
  );
};

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Reads are public; any write needs a user (the service itself decides whether it needs an admin). */
export const requireIdentityForWrites: RequestHandler = (req, res, next) =>
  READS.has(req.method) ? next() : requireIdentity(req, res, next);
