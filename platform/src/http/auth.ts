import type { RequestHandler, Response } from 'express';
import { SignJWT, jwtVerify } from 'jose';
import { AppError } from './app-error';

export interface Identity {
  userId: number;
  roles: string[];
  isAdmin: boolean;
}

const ALGORITHM = 'HS256';
const keys = new Map<string, Uint8Array>();
const secretKey = (secret: string) => {
  let key = keys.get(secret);
  if (!key) {
    key = new TextEncoder().encode(secret);
    if (keys.size < 16) keys.set(secret, key);
  }
  return key;
};

/**
 * Tokens already verified, by token string, for the rest of their lifetime: the gateway and every
 * service verify the same token on each request, and a hit skips the HMAC and the JSON parsing.
 * Bounded (least recently used out first); failures are never cached.
 */
const VERIFIED_CACHE_SIZE = 10_000;
interface Verified {
  secret: string;
  /** `exp` in seconds since the epoch: valid while the current second is before it (as jose checks). */
  exp: number;
  identity: Identity;
}
const verified = new Map<string, Verified>();

const copyOf = (identity: Identity): Identity => ({ ...identity, roles: [...identity.roles] });

/** Verifies an HS256 access token and returns who it speaks for; throws 401 otherwise. */
export async function verifyToken(token: string, secret: string): Promise<Identity> {
  const hit = verified.get(token);
  if (hit) {
    verified.delete(token);
    if (hit.secret === secret && Math.floor(Date.now() / 1000) < hit.exp) {
      verified.set(token, hit);
      return copyOf(hit.identity);
    }
  }
  return verifyUncached(token, secret);
}

async function verifyUncached(token: string, secret: string): Promise<Identity> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, secretKey(secret), { algorithms: [ALGORITHM], requiredClaims: ['sub', 'exp'] }));
  } catch (error) {
    const reason = (error as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'The token has expired.' : 'The token is not valid.';
    throw new AppError(401, 'unauthorized', reason, { headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
  }
  if (typeof payload.sub !== 'string' || !/^[1-9]\d{0,9}$/.test(payload.sub)) {
    throw new AppError(401, 'unauthorized', 'The token subject must be a numeric user id.');
  }
  const roles = Array.isArray(payload.roles) ? (payload.roles as unknown[]).filter((role): role is string => typeof role === 'string') : [];
  const identity = { userId: Number(payload.sub), roles, isAdmin: roles.includes('admin') };
  if (typeof payload.exp === 'number') {
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(token, { secret, exp: payload.exp, identity: copyOf(identity) });
  }
  return identity;
}

export async function signToken(
  claims: { userId: number; roles?: string[] },
  secret: string,
  expiresIn: string | number = '1h',
): Promise<string> {
  return new SignJWT({ roles: claims.roles ?? [] })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(String(claims.userId))
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(secretKey(secret));
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** Requires a valid bearer token; the identity lands in `res.locals.identity`. */
export function authenticate(secret: string): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      return next(
        new AppError(401, 'unauthorized', 'A bearer token is required.', { headers: { 'WWW-Authenticate': 'Bearer' } }),
      );
    }
    try {
      res.locals.identity = await verifyToken(token, secret);
      next();
    } catch (error) {
      next(error);
    }
  };
}

export const requireAdmin: RequestHandler = (_req, res, next) =>
  next(identityOf(res).isAdmin ? undefined : new AppError(403, 'forbidden', 'This action needs the admin role.'));

export function identityOf(res: Response): Identity {
  const identity = res.locals.identity as Identity | undefined;
  if (!identity) throw new AppError(401, 'unauthorized', 'A bearer token is required.');
  return identity;
}
