import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { createTokenVerifier } from '../../src/http/token-verifier';

/**
 * An identity provider of the test's own: a local HTTP server publishing a JSON Web Key Set that
 * a test can swap (a key rotation), counting how often the set is fetched.
 */
interface ProviderKey {
  kid: string;
  alg: 'RS256' | 'ES256' | 'EdDSA';
  privateKey: KeyLike;
  jwk: JWK;
}

async function providerKey(kid: string, alg: ProviderKey['alg']): Promise<ProviderKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function startKeyServer() {
  const state = { keys: [] as ProviderKey[], fetches: 0, down: false };
  const server: Server = createServer((_req, res) => {
    state.fetches++;
    if (state.down) return void res.writeHead(503).end();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: state.keys.map((key) => key.jwk) }));
  });
  return new Promise<{ url: string; state: typeof state; close(): Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
        state,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    );
  });
}

const signWith = (
  key: Pick<ProviderKey, 'kid' | 'alg' | 'privateKey'>,
  userId: number,
  roles: string[] = [],
) =>
  new SignJWT({ roles })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setSubject(String(userId))
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key.privateKey);

const SECRET = 'dev-secret-change-me-please';

describe('tokens from an identity provider (JWT_JWKS_URL, SPEC §4)', () => {
  let provider: Awaited<ReturnType<typeof startKeyServer>>;
  let rsa: ProviderKey, ec: ProviderKey, ed: ProviderKey;
  beforeAll(async () => {
    [provider, rsa, ec, ed] = await Promise.all([
      startKeyServer(),
      providerKey('rsa-1', 'RS256'),
      providerKey('ec-1', 'ES256'),
      providerKey('ed-1', 'EdDSA'),
    ]);
  });
  beforeEach(() => {
    provider.state.keys = [rsa, ec, ed];
    provider.state.fetches = 0;
    provider.state.down = false;
  });
  afterAll(() => provider.close());

  const verifierFor = (settings: { JWT_ISSUER?: string } = {}) =>
    createTokenVerifier(
      { JWT_SECRET: SECRET, JWT_JWKS_URL: provider.url, ...settings },
      { jwksCooldownMs: 0 },
    );

  it('RS256, ES256 and EdDSA tokens verify with the key their kid names', async () => {
    // Arrange
    const verifier = verifierFor();

    // Act
    const identities = await Promise.all([
      verifier.verify(await signWith(rsa, 1, ['admin'])),
      verifier.verify(await signWith(ec, 2)),
      verifier.verify(await signWith(ed, 3)),
    ]);

    // Assert
    expect(identities).toEqual([
      { userId: 1, roles: ['admin'], isAdmin: true },
      { userId: 2, roles: [], isAdmin: false },
      { userId: 3, roles: [], isAdmin: false },
    ]);
  });

  it('the key set is fetched once and then served from the cache', async () => {
    const verifier = verifierFor();

    for (const userId of [10, 11, 12]) await verifier.verify(await signWith(rsa, userId));
    await verifier.verify(await signWith(ec, 13));

    expect(provider.state.fetches).toBe(1);
  });

  it('after the provider rotates to a new key, its tokens verify without a restart and the retired key is refused', async () => {
    // Arrange: the verifier has fetched and cached a set holding only rsa-1
    provider.state.keys = [rsa];
    const verifier = verifierFor();
    await verifier.verify(await signWith(rsa, 20));
    const rotated = await providerKey('rsa-2', 'RS256');

    // Act: the provider publishes rsa-2 and retires rsa-1
    provider.state.keys = [rotated];
    const fromNewKey = await verifier.verify(await signWith(rotated, 21));
    const fromRetiredKey = verifier.verify(await signWith(rsa, 22));

    // Assert
    expect(fromNewKey.userId).toBe(21);
    await expect(fromRetiredKey).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('a token whose kid is not in the set is 401', async () => {
    const stranger = await providerKey('unknown-kid', 'ES256');

    await expect(verifierFor().verify(await signWith(stranger, 30))).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
  });

  it('a token naming a known kid but signed with another key is 401', async () => {
    const impostor = { ...(await providerKey('x', 'RS256')), kid: rsa.kid };

    await expect(verifierFor().verify(await signWith(impostor, 31))).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
  });

  it('an HS256 token, even one signed with JWT_SECRET, is 401 once the provider keys verify tokens', async () => {
    const hs256 = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .setSubject('1')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));

    await expect(verifierFor().verify(hs256)).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('the lifetime, subject and issuer rules hold for provider tokens too', async () => {
    const verifier = verifierFor({ JWT_ISSUER: 'https://idp.example' });
    const longLived = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: ec.kid })
      .setSubject('40')
      .setIssuer('https://idp.example')
      .setIssuedAt()
      .setExpirationTime('25h')
      .sign(ec.privateKey);
    const wrongIssuer = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: ec.kid })
      .setSubject('41')
      .setIssuer('https://elsewhere.example')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(ec.privateKey);

    await expect(verifier.verify(longLived)).rejects.toMatchObject({
      status: 401,
      message: expect.stringMatching(/lifetime/),
    });
    await expect(verifier.verify(wrongIssuer)).rejects.toMatchObject({
      status: 401,
      message: expect.stringMatching(/"iss"/),
    });
  });

  it('when the provider is down after the cached set went stale, tokens still verify with the keys last fetched', async () => {
    // Arrange: a set that is stale at once, fetched while the provider was up
    const verifier = createTokenVerifier(
      { JWT_SECRET: SECRET, JWT_JWKS_URL: provider.url },
      { jwksCooldownMs: 0, jwksCacheMaxAgeMs: 0 },
    );
    await verifier.verify(await signWith(rsa, 60));
    provider.state.down = true;

    // Act
    const identity = await verifier.verify(await signWith(ec, 61));

    // Assert: it did try the provider again, then fell back
    expect(identity.userId).toBe(61);
    expect(provider.state.fetches).toBeGreaterThan(1);
  });

  it('when the key set cannot be fetched, the token is 401 and the detail says the keys are unavailable', async () => {
    const verifier = createTokenVerifier({
      JWT_SECRET: SECRET,
      JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json',
    });

    await expect(verifier.verify(await signWith(rsa, 50))).rejects.toMatchObject({
      status: 401,
      code: 'unauthorized',
      message: expect.stringMatching(/keys are unavailable/),
    });
  });
});
