import {
  createLocalJWKSet,
  createRemoteJWKSet,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyOptions,
} from 'jose';
import { AppError } from './app-error';
import { createVerifiedTokenCache } from './verified-token-cache';

/** Who a verified access token speaks for. */
export interface Identity {
  userId: number;
  roles: string[];
  isAdmin: boolean;
}

/** The JWT_* keys of platform's baseConfigShape: they decide how tokens are verified. */
export interface TokenSettings {
  JWT_SECRET: string;
  JWT_JWKS_URL?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  /** Longest accepted lifetime (exp − iat), in seconds. Default 24 h. */
  JWT_MAX_TTL?: number;
}

export interface TokenVerifier {
  /** Who the token speaks for; throws AppError 401 when it is not acceptable. */
  verify(token: string): Promise<Identity>;
}

export interface TokenVerifierOptions {
  /** Least time between two key-set fetches caused by an unknown `kid` (jose's default: 30 s). */
  jwksCooldownMs?: number;
  /** Age after which the key set is fetched again on its next use (jose's default: 10 min). */
  jwksCacheMaxAgeMs?: number;
}

/** Algorithms of an identity provider's keys; HS256 is only for the local secret, never with JWKS. */
const PROVIDER_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
const LOCAL_ALGORITHM = 'HS256';
export const DEFAULT_MAX_TTL_SECONDS = 24 * 3600;
/** How far in the future `iat` may lie: clocks of issuer and service drift apart. */
const IAT_SKEW_SECONDS = 60;
/** `sub` is a user id and must fit the int4 id column (SPEC §4). */
const MAX_USER_ID = 2_147_483_647;

/**
 * One verifier per process, built from config (SPEC §4): HS256 with JWT_SECRET when no
 * JWT_JWKS_URL is set, otherwise only the identity provider's keys. Those are fetched once and
 * cached by jose; a token with an unknown `kid` makes it fetch the set again (at most once per
 * cooldown), so a provider's key rotation needs no restart; while the provider is unreachable the
 * keys last fetched keep verifying. Beyond the signature it enforces
 * issuer and audience (when set), a lifetime of at most JWT_MAX_TTL (so `iat` is required), an
 * `iat` no more than 60 s ahead, and a `sub` that is a user id the database can hold.
 */
export function createTokenVerifier(
  settings: TokenSettings,
  options: TokenVerifierOptions = {},
): TokenVerifier {
  const maxTtl = settings.JWT_MAX_TTL ?? DEFAULT_MAX_TTL_SECONDS;
  const rules: JWTVerifyOptions = {
    issuer: settings.JWT_ISSUER,
    audience: settings.JWT_AUDIENCE,
    requiredClaims: ['sub', 'exp', 'iat'],
  };
  const checkSignature = settings.JWT_JWKS_URL
    ? verifyWithKeySet(settings.JWT_JWKS_URL, rules, options)
    : verifyWithSecret(settings.JWT_SECRET, rules);
  const verified = createVerifiedTokenCache();

  return {
    async verify(token) {
      const hit = verified.get(token);
      if (hit) return hit;
      let payload: JWTPayload;
      try {
        payload = await checkSignature(token);
      } catch (error) {
        throw refused(reasonFor(error));
      }
      const identity = identityOf(payload, maxTtl);
      verified.set(token, payload.exp!, identity);
      return identity;
    },
  };
}

function verifyWithSecret(secret: string, rules: JWTVerifyOptions) {
  const key = new TextEncoder().encode(secret);
  return async (token: string) =>
    (await jwtVerify(token, key, { ...rules, algorithms: [LOCAL_ALGORITHM] })).payload;
}

function verifyWithKeySet(url: string, rules: JWTVerifyOptions, options: TokenVerifierOptions) {
  const keys = createRemoteJWKSet(new URL(url), {
    cooldownDuration: options.jwksCooldownMs,
    cacheMaxAge: options.jwksCacheMaxAgeMs,
  });
  const withAlgorithms = { ...rules, algorithms: PROVIDER_ALGORITHMS };
  let fallback: { jwks: JSONWebKeySet; keys: ReturnType<typeof createLocalJWKSet> } | undefined;
  const lastFetchedKeys = (jwks: JSONWebKeySet) =>
    (fallback?.jwks === jwks ? fallback : (fallback = { jwks, keys: createLocalJWKSet(jwks) })).keys;
  return async (token: string) => {
    try {
      return (await jwtVerify(token, keys, withAlgorithms)).payload;
    } catch (error) {
      // The provider is unreachable just when the cached set is due for a refresh (or a token names a
      // new kid): the keys last fetched still verify the tokens they signed, rather than every token
      // being refused for as long as the provider is down.
      const lastFetched = keys.jwks();
      if (!lastFetched || !isKeySetUnavailable(error)) throw error;
      return (await jwtVerify(token, lastFetchedKeys(lastFetched), withAlgorithms)).payload;
    }
  };
}

/** The key set could not be fetched (network, timeout, a non-200 or non-JWKS answer): no verdict on the token. */
function isKeySetUnavailable(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return (
    !code?.startsWith('ERR_J') || ['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC'].includes(code)
  );
}

/** The checks jose does not make; `exp` and `iat` are present and numeric (jose checked). */
function identityOf(payload: JWTPayload, maxTtl: number): Identity {
  const [iat, exp] = [payload.iat!, payload.exp!];
  if (iat > Math.floor(Date.now() / 1000) + IAT_SKEW_SECONDS)
    throw refused('The token was issued in the future.');
  if (exp - iat > maxTtl) throw refused(`The token's lifetime exceeds the ${maxTtl} s allowed.`);
  const sub = payload.sub;
  if (typeof sub !== 'string' || !/^[1-9]\d{0,9}$/.test(sub) || Number(sub) > MAX_USER_ID) {
    throw refused('The token subject must be a user id (a positive integer up to 2147483647).');
  }
  const roles = Array.isArray(payload.roles)
    ? (payload.roles as unknown[]).filter((role): role is string => typeof role === 'string')
    : [];
  return { userId: Number(sub), roles, isAdmin: roles.includes('admin') };
}

function reasonFor(error: unknown): string {
  const { code, claim } = error as { code?: string; claim?: string };
  if (code === 'ERR_JWT_EXPIRED') return 'The token has expired.';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (claim === 'iss' || claim === 'aud')) {
    return `The token's "${claim}" claim is not the one this service accepts.`;
  }
  if (isKeySetUnavailable(error))
    return "The token could not be checked: the identity provider's keys are unavailable.";
  return 'The token is not valid.';
}

const refused = (detail: string) =>
  new AppError(401, 'unauthorized', detail, {
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  });
