import type { RequestHandler, Response } from 'express';
import { SignJWT } from 'jose';
import { AppError } from './app-error';
import type { Identity, TokenVerifier } from './token-verifier';

/** Mints an HS256 token (tests, `npm run token`): `sub`, `roles`, `iat` and `exp`, as the verifier requires. */
export async function signToken(
  claims: { userId: number; roles?: string[] },
  secret: string,
  expiresIn: string | number = '1h',
): Promise<string> {
  return new SignJWT({ roles: claims.roles ?? [] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(String(claims.userId))
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** Requires a valid bearer token; the identity lands in `res.locals.identity`. */
export function authenticate(tokens: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      return next(
        new AppError(401, 'unauthorized', 'A bearer token is required.', { headers: { 'WWW-Authenticate': 'Bearer' } }),
      );
    }
    try {
      res.locals.identity = await tokens.verify(token);
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
