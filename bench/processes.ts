import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { ROOT } from './infra';
import type { ResourceSampler } from './resources';
import { sleep } from './stats';

export interface ServiceProcess {
  role: string;
  pid: number;
  logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  exited: boolean;
}

const running = new Set<ChildProcess>();

/** Spawns `node <entry>` with `env`, logging to `<logDir>/<logName or role>.log`, tracked by the sampler under its role. */
export function spawnNode(options: {
  role: string;
  /** The log file's name, where several processes share a role. */
  logName?: string;
  entry: string;
  env: Record<string, string>;
  logDir: string;
  sampler: ResourceSampler;
  nodeArgs?: string[];
}): ServiceProcess {
  const logFile = path.join(options.logDir, `${options.logName ?? options.role}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(ROOT, options.entry)], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...serviceNodeOptions(),
      ...otelSettings(),
      ...options.env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${options.entry}`);
  running.add(child);
  const pid = child.pid;
  options.sampler.track(pid, options.role);
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: ServiceProcess = {
    role: options.role,
    pid,
    logFile,
    exited: false,
    stop: async (graceMs = 10_000) => {
      if (handle.exited) return;
      options.sampler.untrack(pid);
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(killer);
    },
  };
  void exit.then(() => {
    handle.exited = true;
    running.delete(child);
  });
  return handle;
}

/** Last resort on an abnormal exit of the bench itself: nothing it started may outlive it. */
export function killAllSpawned(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** `count` distinct free ports: every listener stays open until all are found, so none is handed out twice. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, listenOnAnyPort));
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function listenOnAnyPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Waits until GET <baseUrl>/health answers 200 with status "ok" (database and broker up). */
export async function waitHealthy(
  service: ServiceProcess,
  baseUrl: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (service.exited) throw new Error(`${service.role} exited during start-up:\n${tail(service.logFile)}`);
    try {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      const body = (await response.json()) as { status?: string };
      if (response.status === 200 && body.status === 'ok') return;
      last = `${response.status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(
    `${service.role} not healthy within ${timeoutMs} ms (last: ${last}):\n${tail(service.logFile)}`,
  );
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * `BENCH_SERVICE_NODE_OPTIONS=…` becomes the services' and relays' NODE_OPTIONS (not the bench's own),
 * to measure a runtime flag in the whole system, e.g. `--max-semi-space-size=16` (decision 40).
 */
function serviceNodeOptions(): Record<string, string> {
  const options = process.env.BENCH_SERVICE_NODE_OPTIONS;
  return options ? { NODE_OPTIONS: options } : {};
}

/** OpenTelemetry settings pass through, so a bench run can export every service's spans (`OTEL_EXPORTER_OTLP_ENDPOINT=…`). */
function otelSettings(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[0].startsWith('OTEL_') && entry[1] !== undefined,
    ),
  );
}
