import { ConfigError, baseConfigShape, parseConfig } from '../../src/config';

const LONG_SECRET = 'a-random-production-secret-of-48-characters-xyz0';
const production =
  (env: Record<string, string> = {}) =>
  () =>
    parseConfig(baseConfigShape, { NODE_ENV: 'production', ...env });

describe('the token secret in production (SPEC §4)', () => {
  it('with no JWT_SECRET set, a production config is refused with one line naming JWT_SECRET', () => {
    expect(production()).toThrow(ConfigError);
    expect(production()).toThrow(/^Invalid configuration: JWT_SECRET: [^\n]*production[^\n]*$/);
  });

  it('the published default secret is refused in production', () => {
    expect(production({ JWT_SECRET: 'dev-secret-change-me-please' })).toThrow(/JWT_SECRET: [^\n]*published/);
  });

  it('a secret shorter than 32 characters is refused in production', () => {
    expect(production({ JWT_SECRET: 'x'.repeat(31) })).toThrow(/JWT_SECRET: [^\n]*at least 32 /);
  });

  it('a secret of 32 characters or more is accepted in production', () => {
    expect(production({ JWT_SECRET: LONG_SECRET })().JWT_SECRET).toBe(LONG_SECRET);
  });

  it('with JWT_JWKS_URL set, production needs no secret (tokens are checked with the provider keys)', () => {
    const config = production({ JWT_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json' })();

    expect(config.NODE_ENV).toBe('production');
  });

  it('development and test keep the default secret, so npm start and the test suites need no setup', () => {
    expect(parseConfig(baseConfigShape, { NODE_ENV: 'development' }).JWT_SECRET).toBe(
      'dev-secret-change-me-please',
    );
    expect(parseConfig(baseConfigShape, { NODE_ENV: 'test' }).JWT_SECRET).toBe('dev-secret-change-me-please');
  });
});
