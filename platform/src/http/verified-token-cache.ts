import type { Identity } from './token-verifier';

/**
 * Tokens one verifier already accepted, by token string, for the rest of their lifetime: the
 * gateway and every service verify the same token on each request, and a hit skips the signature
 * check and the JSON parsing. Each verifier has its own cache, so a token accepted under one
 * secret or key set is never taken as verified by another. Bounded (least recently used out
 * first); the caller stores only successes.
 */
export function createVerifiedTokenCache(maxEntries = 10_000) {
  /** `exp` in seconds since the epoch: valid while the current second is before it (as jose checks). */
  const entries = new Map<string, { exp: number; identity: Identity }>();
  const copyOf = (identity: Identity): Identity => ({ ...identity, roles: [...identity.roles] });

  return {
    get(token: string): Identity | undefined {
      const hit = entries.get(token);
      if (!hit) return undefined;
      entries.delete(token);
      if (Math.floor(Date.now() / 1000) >= hit.exp) return undefined;
      entries.set(token, hit);
      return copyOf(hit.identity);
    },
    set(token: string, exp: number, identity: Identity): void {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(token, { exp, identity: copyOf(identity) });
    },
  };
}
