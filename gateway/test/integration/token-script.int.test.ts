import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTokenVerifier } from '@shop/platform';
import { SECRET, startTestGateway, type TestGateway } from '../support/gateway';

const run = promisify(execFile);
const TOKEN_SCRIPT = join(__dirname, '../../../scripts/token.js');
const verifyToken = (token: string, secret: string) => createTokenVerifier({ JWT_SECRET: secret }).verify(token);
const token = (args: string[]) => run(process.execPath, [TOKEN_SCRIPT, ...args], { env: { ...process.env, JWT_SECRET: SECRET } });

describe('scripts/token.js (npm run token)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(() => t.close());

  it('prints a token for the user that the gateway accepts and the platform reads as that user', async () => {
    const { stdout } = await token(['--user', '42', '--admin', '--expires', '5m']);

    const printed = stdout.trim();
    expect(await verifyToken(printed, SECRET)).toEqual({ userId: 42, roles: ['admin'], isAdmin: true });
    const response = await fetch(`${t.url}/api/v1/orders`, { headers: { authorization: `Bearer ${printed}` } });
    expect(response.status).toBe(200);
  });

  it('without --admin the token carries no roles', async () => {
    const { stdout } = await token(['--user=7']);

    expect(await verifyToken(stdout.trim(), SECRET)).toEqual({ userId: 7, roles: [], isAdmin: false });
  });

  it('with JWT_ISSUER and JWT_AUDIENCE set, the token carries them, so services that check them accept it', async () => {
    const settings = { JWT_SECRET: SECRET, JWT_ISSUER: 'https://shop.local', JWT_AUDIENCE: 'shop' };

    const { stdout } = await run(process.execPath, [TOKEN_SCRIPT, '--user', '9'], { env: { ...process.env, ...settings } });

    expect(await createTokenVerifier(settings).verify(stdout.trim())).toEqual({ userId: 9, roles: [], isAdmin: false });
  });

  it('a lifetime beyond JWT_MAX_TTL (default 24 h), which the services would refuse, exits 2 and says why', async () => {
    const failure = await token(['--user', '1', '--expires', '25h']).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );

    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toMatch(/JWT_MAX_TTL/);
  });

  it.each([[[]], [['--user', '0']], [['--user', 'abc']], [['--user', '-3']], [['--user', '1', '--bogus']], [['--user', '1', '--expires', 'soon']]])(
    'with bad arguments %j it prints the usage and exits 2',
    async (args) => {
      const failure = await token(args).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );

      expect(failure?.code).toBe(2);
      expect(failure?.stderr).toMatch(/Usage: npm run token -- --user <id>/);
    },
  );
});
