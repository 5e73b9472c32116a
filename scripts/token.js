#!/usr/bin/env node
/**
 * Prints an HS256 access token for local use (SPEC §4):
 *   npm run token -- --user 42 [--admin] [--expires 1h]
 * Signed with JWT_SECRET from the environment, else the same default as platform's baseConfigShape,
 * so a token made here is accepted by the gateway and every service started with their defaults.
 * It follows the same JWT_* settings as the services: `iss`/`aud` from JWT_ISSUER/JWT_AUDIENCE, a
 * lifetime within JWT_MAX_TTL, and no token at all when JWT_JWKS_URL says only an identity
 * provider's tokens count.
 */
const { TextEncoder } = require('node:util');
const { SignJWT, decodeJwt } = require('jose');

// Keep in step with platform/src/config.ts (baseConfigShape).
const DEFAULT_SECRET = 'dev-secret-change-me-please';
const DEFAULT_MAX_TTL = 24 * 3600;
const USAGE = `Usage: npm run token -- --user <id> [--admin] [--expires <duration>]

  --user <id>          user id the token speaks for (a positive integer; required)
  --admin              add the "admin" role
  --expires <duration> lifetime, e.g. 30m, 1h, 12h (default 1h; at most JWT_MAX_TTL, 24 h by default)

The token is signed with JWT_SECRET (default: the development secret the services use) and
carries JWT_ISSUER / JWT_AUDIENCE when they are set; its lifetime may not exceed JWT_MAX_TTL.`;

function fail(message) {
  process.stderr.write(`token: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { user: undefined, admin: false, expires: '1h' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.split(/=(.*)/s, 2);
    const value = () => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) fail(`${name} needs a value`);
      return next;
    };
    switch (name) {
      case '--user':
        options.user = value();
        break;
      case '--admin':
        if (inline !== undefined) fail('--admin takes no value');
        options.admin = true;
        break;
      case '--expires':
        options.expires = value();
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        fail(`unknown argument ${arg}`);
    }
  }
  if (options.user === undefined) fail('--user is required');
  if (!/^[1-9]\d{0,9}$/.test(options.user) || Number(options.user) > 2_147_483_647) {
    fail(`--user must be a positive integer, got "${options.user}"`);
  }
  if (!/^\d+\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks|y|yr|yrs|year|years)$/i.test(options.expires)) {
    fail(`--expires must be a duration such as 30m, 1h or 12h, got "${options.expires}"`);
  }
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const env = process.env;
  if (env.JWT_JWKS_URL) fail('JWT_JWKS_URL is set: the services accept only the identity provider\'s tokens, not HS256 ones from here');
  const secret = env.JWT_SECRET || DEFAULT_SECRET;
  if (secret.length < 16) fail('JWT_SECRET must be at least 16 characters (the services refuse shorter ones)');
  const jwt = new SignJWT({ roles: options.admin ? ['admin'] : [] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.user)
    .setIssuedAt()
    .setExpirationTime(options.expires);
  if (env.JWT_ISSUER) jwt.setIssuer(env.JWT_ISSUER);
  if (env.JWT_AUDIENCE) jwt.setAudience(env.JWT_AUDIENCE);
  const token = await jwt.sign(new TextEncoder().encode(secret));
  const { iat, exp } = decodeJwt(token);
  const maxTtl = Number(env.JWT_MAX_TTL) || DEFAULT_MAX_TTL;
  if (exp - iat > maxTtl) fail(`--expires ${options.expires} is longer than JWT_MAX_TTL (${maxTtl} s); the services would refuse the token`);
  process.stdout.write(`${token}\n`);
}

main().catch((error) => {
  process.stderr.write(`token: ${error.message}\n`);
  process.exit(1);
});
