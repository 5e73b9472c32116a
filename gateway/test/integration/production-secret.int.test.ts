import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * SPEC §4: with NODE_ENV=production a service refuses to start on a missing, short or published
 * default JWT_SECRET, unless an identity provider's keys (JWT_JWKS_URL) verify tokens. The gateway's
 * real main (the platform's runService) runs as a process of its own, from the TypeScript sources.
 */
const ROOT = join(__dirname, '../../..');
const MAIN = join(ROOT, 'gateway/src/main.ts');
/** `@shop/*` resolves to the workspace sources (tsx reads the paths), so no build is needed. */
const SOURCES_TSCONFIG = join(ROOT, 'tsconfig.sources.json');

interface Outcome {
  /** Exit code, or 'listening' once it logged that it serves (it is then stopped with SIGTERM). */
  result: number | 'listening';
  stderr: string;
}

function runGateway(env: Record<string, string>): Promise<Outcome> {
  const { JWT_SECRET: _inherited, ...parentEnv } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { ...parentEnv, TSX_TSCONFIG_PATH: SOURCES_TSCONFIG, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    let listening = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (listening || !chunk.toString().includes('"gateway listening"')) return;
      listening = true;
      child.kill('SIGTERM');
    });
    child.once('exit', (code) => resolve({ result: listening ? 'listening' : (code ?? -1), stderr }));
  });
}

const LONG_SECRET = 'a-random-production-secret-of-48-characters-xyz0';

describe('starting in production', () => {
  it.each([
    ['no JWT_SECRET', {}],
    ['the published default JWT_SECRET', { JWT_SECRET: 'dev-secret-change-me-please' }],
  ])('with %s, the gateway exits 1 with one line that names JWT_SECRET', async (_case, env) => {
    const outcome = await runGateway({ NODE_ENV: 'production', ...env });

    expect(outcome.result).toBe(1);
    expect(outcome.stderr).toMatch(/^gateway: Invalid configuration: JWT_SECRET: [^\n]+\n$/);
  });

  it('with a random secret of 32+ characters, the gateway starts', async () => {
    const outcome = await runGateway({ NODE_ENV: 'production', JWT_SECRET: LONG_SECRET });

    expect(outcome).toEqual({ result: 'listening', stderr: '' });
  });

  it("with JWT_JWKS_URL set, the gateway starts without a secret (the provider's keys verify tokens)", async () => {
    const outcome = await runGateway({
      NODE_ENV: 'production',
      JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
    });

    expect(outcome).toEqual({ result: 'listening', stderr: '' });
  });
});
