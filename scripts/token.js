#!/usr/bin/env node
/**
 * Prints an HS256 access token for local use (SPEC §4):
 *   npm run token -- --user 42 [--admin] [--expires 1h]
 * Signed with JWT_SECRET from the environment, else the same default as platform's baseConfigShape,
 * so a token made here is accepted by the gateway and every service started with their defaults.
 */
const { TextEncoder } = require('node:util');
const { SignJWT } = require('jose');

const DEFAULT_SECRET = 'dev-secret-change-me-please'; // keep in step with platform/src/config.ts
const USAGE = `Usage: npm run token -- --user <id> [--admin] [--expires <duration>]

  --user <id>          user id the token speaks for (a positive integer; required)
  --admin              add the "admin" role
  --expires <duration> lifetime, e.g. 30m, 1h, 7d (default 1h)

The token is signed with JWT_SECRET (default: the development secret the services use).`;

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
    fail(`--expires must be a duration such as 30m, 1h or 7d, got "${options.expires}"`);
  }
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const secret = process.env.JWT_SECRET || DEFAULT_SECRET;
  if (secret.length < 16) fail('JWT_SECRET must be at least 16 characters (the services refuse shorter ones)');
  const token = await new SignJWT({ roles: options.admin ? ['admin'] : [] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.user)
    .setIssuedAt()
    .setExpirationTime(options.expires)
    .sign(new TextEncoder().encode(secret));
  process.stdout.write(`${token}\n`);
}

main().catch((error) => {
  process.stderr.write(`token: ${error.message}\n`);
  process.exit(1);
});
