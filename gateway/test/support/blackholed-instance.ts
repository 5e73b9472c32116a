import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';

export interface BlackholedInstance {
  url: string;
  close(): Promise<void>;
}

/** Listens with room for 2 waiting connections (Linux keeps backlog + 1), then never accepts: its event loop is blocked. */
const LISTENER = `
require('node:net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () {
  process.stdout.write(this.address().port + '\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});`;
const QUEUE_ROOM = 2;

/**
 * An instance whose connections never open, as behind a firewall that drops packets: a listener in
 * another process (this one would accept) that never accepts, its accept queue filled by connections
 * held here, so the kernel answers no further SYN and a connect to it just waits. Deterministic on
 * Linux, unlike a non-routable address, which a sandbox's network may answer.
 */
export async function startBlackholedInstance(): Promise<BlackholedInstance> {
  const child = spawn(process.execPath, ['-e', LISTENER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (line: Buffer) => resolve(Number(line.toString().trim())));
  });
  const fillers: Socket[] = [];
  for (let i = 0; i < QUEUE_ROOM; i++) {
    const filler = connect(port, '127.0.0.1');
    filler.on('error', () => undefined);
    fillers.push(filler);
    await new Promise((resolve) => filler.once('connect', resolve));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      fillers.forEach((filler) => filler.destroy());
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
