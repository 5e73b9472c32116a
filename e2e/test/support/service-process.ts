import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
/** Maps `@shop/*` to the sibling packages' TypeScript sources, as jest does, so no build is needed. */
const SOURCES_TSCONFIG = path.join(__dirname, 'sources.tsconfig.json');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  port: number;
  url: string;
  /** Resolves once the process has ended. */
  exited: Promise<Exit>;
  /** Sends SIGTERM, as a rolling deploy does. */
  terminate(): void;
  /** SIGKILL, for clean-up after a failed test; a no-op once it has exited. */
  kill(): void;
  /** Everything it wrote (JSON log lines), for failure messages. */
  output(): string;
}

/**
 * Runs a service's `src/main.ts` as a process of its own — the composition root, signal handling
 * and exit code exactly as in production — and resolves once it logs `<name> listening` (PORT=0
 * picks a free port, read from that line). A process that has not logged it within
 * `startTimeoutMs` is killed and the promise rejects with what it wrote — rather than a silent hang
 * (a LOG_LEVEL above `info` hides that line, for one).
 */
export function spawnService(
  dir: string,
  name: string,
  env: Record<string, string>,
  startTimeoutMs = 60_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, dir, 'src/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: SOURCES_TSCONFIG, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let done = false;
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  return new Promise((resolve, reject) => {
    const startTimer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${dir} did not log "${name} listening" within ${startTimeoutMs} ms (LOG_LEVEL info or lower shows it):\n${output}`,
        ),
      );
    }, startTimeoutMs);
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString();
      const port = listeningPort(output, name);
      if (port === undefined) return;
      clearTimeout(startTimer);
      child.stdout.off('data', onOutput);
      child.stdout.on('data', (more: Buffer) => (output += more.toString()));
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        exited,
        terminate: () => void child.kill('SIGTERM'),
        kill: () => void (done || child.kill('SIGKILL')),
        output: () => output,
      });
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then(({ code, signal }) => {
      clearTimeout(startTimer);
      reject(new Error(`${dir} ended before listening (code ${code}, signal ${signal}):\n${output}`));
    });
  });
}

function listeningPort(output: string, name: string): number | undefined {
  // Only whole lines: the last one may still be arriving.
  for (const line of output.split('\n').slice(0, -1)) {
    if (!line.includes(`${name} listening`)) continue;
    const { port } = JSON.parse(line) as { port?: number };
    if (port) return port;
  }
  return undefined;
}
