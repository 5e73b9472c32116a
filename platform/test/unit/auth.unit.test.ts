import { SignJWT } from 'jose';
import { signToken, bearerToken } from '../../src/http/auth';
import { AppError } from '../../src/http/app-error';
import { createTokenVerifier } from '../../src/http/token-verifier';

const SECRET = 'unit-test-secret-0123456789';
const verifyToken = (token: string, secret: string) =>
  createTokenVerifier({ JWT_SECRET: secret }).verify(token);

describe('access tokens', () => {
  it('a token minted for user 42 with the admin role verifies as that admin', async () => {
    const token = await signToken({ userId: 42, roles: ['admin'] }, SECRET);

    const identity = await verifyToken(token, SECRET);

    expect(identity).toEqual({ userId: 42, roles: ['admin'], isAdmin: true });
  });

  it('a token signed with another secret is rejected as 401 unauthorized', async () => {
    const token = await signToken({ userId: 42 }, 'another-secret-0123456789');

    await expect(verifyToken(token, SECRET)).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('an expired token is rejected and says it has expired', async () => {
    const token = await signToken({ userId: 42 }, SECRET, Math.floor(Date.now() / 1000) - 10);

    await expect(verifyToken(token, SECRET)).rejects.toThrow('expired');
  });

  it('a token whose subject is not a numeric user id is rejected', async () => {
    const token = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));

    await expect(verifyToken(token, SECRET)).rejects.toBeInstanceOf(AppError);
  });

  it('a token without an expiry is rejected', async () => {
    const token = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('42')
      .setIssuedAt()
      .sign(new TextEncoder().encode(SECRET));

    await expect(verifyToken(token, SECRET)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('a token one verifier accepted (and cached) is still refused by a verifier with another secret', async () => {
    const token = await signToken({ userId: 42 }, SECRET);
    await createTokenVerifier({ JWT_SECRET: SECRET }).verify(token);

    await expect(
      createTokenVerifier({ JWT_SECRET: 'another-secret-0123456789' }).verify(token),
    ).rejects.toMatchObject({ status: 401 });
  });

  it('a cached identity cannot be changed through the copy a caller received', async () => {
    const verifier = createTokenVerifier({ JWT_SECRET: SECRET });
    const token = await signToken({ userId: 42, roles: ['admin'] }, SECRET);
    (await verifier.verify(token)).roles.length = 0;

    expect(await verifier.verify(token)).toEqual({ userId: 42, roles: ['admin'], isAdmin: true });
  });

  it('only a well-formed Bearer header yields a token', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
