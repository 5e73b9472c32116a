import { SignJWT } from 'jose';
import { createTokenVerifier } from '../../src/http/token-verifier';

const SECRET = 'unit-test-secret-0123456789';
const now = () => Math.floor(Date.now() / 1000);
const verify = (token: string) => createTokenVerifier({ JWT_SECRET: SECRET }).verify(token);

/** An HS256 token with exactly the claims given (no defaults), so each test shapes its own. */
const tokenWith = (claims: { sub?: string; iat?: number; exp?: number; iss?: string; aud?: string }) => {
  const jwt = new SignJWT({ roles: [] }).setProtectedHeader({ alg: 'HS256' });
  if (claims.iss !== undefined) jwt.setIssuer(claims.iss);
  if (claims.aud !== undefined) jwt.setAudience(claims.aud);
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
  if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(SECRET));
};

describe('token claims (SPEC §4)', () => {
  it('a subject of 2147483647, the largest id the id column holds, is accepted', async () => {
    const token = await tokenWith({ sub: '2147483647', iat: now(), exp: now() + 60 });

    await expect(verify(token)).resolves.toMatchObject({ userId: 2_147_483_647 });
  });

  it.each(['2147483648', '9999999999'])(
    'a subject of %s, beyond the id column, is 401 unauthorized',
    async (sub) => {
      const token = await tokenWith({ sub, iat: now(), exp: now() + 60 });

      await expect(verify(token)).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    },
  );

  it('a token whose lifetime (exp − iat) exceeds 24 h is refused even though it has not expired', async () => {
    const token = await tokenWith({ sub: '42', iat: now(), exp: now() + 24 * 3600 + 60 });

    await expect(verify(token)).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
      message: expect.stringMatching(/lifetime/),
    });
  });

  it('a token living exactly 24 h is accepted', async () => {
    const iat = now();
    const token = await tokenWith({ sub: '42', iat, exp: iat + 24 * 3600 });

    await expect(verify(token)).resolves.toMatchObject({ userId: 42 });
  });

  it('a token without iat is refused, since its lifetime cannot be checked', async () => {
    const token = await tokenWith({ sub: '42', exp: now() + 60 });

    await expect(verify(token)).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('a token issued more than 60 s in the future is refused', async () => {
    const token = await tokenWith({ sub: '42', iat: now() + 300, exp: now() + 600 });

    await expect(verify(token)).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
      message: expect.stringMatching(/future/),
    });
  });

  it('a token issued a few seconds in the future (clock skew within 60 s) is accepted', async () => {
    const token = await tokenWith({ sub: '42', iat: now() + 20, exp: now() + 600 });

    await expect(verify(token)).resolves.toMatchObject({ userId: 42 });
  });

  it('JWT_MAX_TTL sets the longest lifetime accepted', async () => {
    const verifier = createTokenVerifier({ JWT_SECRET: SECRET, JWT_MAX_TTL: 300 });
    const iat = now();

    await expect(verifier.verify(await tokenWith({ sub: '42', iat, exp: iat + 300 }))).resolves.toMatchObject(
      { userId: 42 },
    );
    await expect(verifier.verify(await tokenWith({ sub: '42', iat, exp: iat + 301 }))).rejects.toMatchObject({
      status: 401,
    });
  });
});

describe('issuer and audience (SPEC §4: checked when set)', () => {
  const verifier = createTokenVerifier({
    JWT_SECRET: SECRET,
    JWT_ISSUER: 'https://idp.example',
    JWT_AUDIENCE: 'shop',
  });
  const claims = () => ({ sub: '42', iat: now(), exp: now() + 60 });

  it('a token from the configured issuer for the configured audience is accepted', async () => {
    const token = await tokenWith({ ...claims(), iss: 'https://idp.example', aud: 'shop' });

    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 42 });
  });

  it('a token from another issuer is 401', async () => {
    const token = await tokenWith({ ...claims(), iss: 'https://elsewhere.example', aud: 'shop' });

    await expect(verifier.verify(token)).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
      message: expect.stringMatching(/"iss"/),
    });
  });

  it('a token for another audience is 401', async () => {
    const token = await tokenWith({ ...claims(), iss: 'https://idp.example', aud: 'billing' });

    await expect(verifier.verify(token)).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
      message: expect.stringMatching(/"aud"/),
    });
  });

  it('a token without issuer and audience is 401 when they are configured', async () => {
    const token = await tokenWith(claims());

    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('when neither is configured, tokens need neither', async () => {
    const token = await tokenWith(claims());

    await expect(createTokenVerifier({ JWT_SECRET: SECRET }).verify(token)).resolves.toMatchObject({
      userId: 42,
    });
  });
});
