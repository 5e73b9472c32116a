/**
 * `npx tsx bench/experiments/gateway-only.ts [--requests=20000] [--rounds=3] [--connections=8]
 *   [--limits] [--from=source] [--base=<checkout>] [--profile]` — what the gateway's CPU costs per proxied request.
 *
 * The real gateway, as deployed (gateway/dist: `npx tsc -b gateway` first; `--from=source` runs
 * gateway/src/main.ts through tsx with `@shop/*` mapped to the working tree's sources, no build, but
 * a profile then names few of our functions), is spawned as a child with the bench's environment: NODE_ENV=production, LOG_LEVEL=info, metrics on, the rate
 * limits at 0 as bench/system.ts sets them (`--limits`: on, at a million a minute, so the limiter
 * runs but never sheds). Behind it, a stub in this process answers every POST with 201 and a small
 * JSON body, and /health with ok. Beside it, a plain `node:http` proxy of twenty lines, also a child,
 * gets the same requests: what a Node proxy needs. autocannon sends N POST /api/v1/orders (bodies and
 * tokens of 200 users as bench phase 1 makes them) at a fixed concurrency to each in turn, for
 * several alternating rounds after a warm-up, and each child's CPU (utime + stime from /proc) is read
 * around its rounds, so the load generator's CPU never counts. Every round is printed: the machine
 * is a noisy 2-core box. `--profile` runs the gateway with --cpu-prof and prints its top self time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { signToken } from '@shop/platform';
import { ROOT } from '../infra';
import { randomOrder, USERS } from '../order-mix';
import { freePorts } from '../processes';
import { sleep } from '../stats';
import { JWT_SECRET, type BenchProduct } from '../system';

const option = (name: string) =>
  process.argv.find((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`))?.split('=')[1] ?? undefined;
const flag = (name: string) => process.argv.includes(`--${name}`);

/** The plain proxy: what any Node HTTP proxy must do, and nothing else. */
function rawProxy(port: number, upstream: string): Server {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const target = new URL(upstream);
  return createServer((req, res) => {
    const forward = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      res.statusCode = 502;
      res.end();
    });
    req.pipe(forward);
  }).listen(port, '127.0.0.1');
}

/** The order service's stand-in: reads the whole body, answers 201 (or /health: ok). */
function upstreamStub(): Promise<Server> {
  const created = JSON.stringify({ id: 1, status: 'PENDING', total: '12.34', items: [] });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const health = req.url?.endsWith('/health');
      res.writeHead(health ? 200 : 201, { 'content-type': 'application/json' });
      res.end(health ? '{"status":"ok"}' : created);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** utime and stime of a process, in ms (USER_HZ is 100 on Linux). */
function cpuMs(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

interface Child {
  name: string;
  url: string;
  process: ChildProcess;
  exited: Promise<void>;
}

/** `node [--import tsx] <entry> [args]`, output to `<dir>/<name>.log`. */
function spawnChild(name: string, dir: string, port: number, nodeArgs: string[], env: Record<string, string>): Child {
  const fd = openSync(path.join(dir, `${name}.log`), 'a');
  const child = spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { name, url: `http://127.0.0.1:${port}`, process: child, exited };
}

/** tsx resolves `@shop/*` to the packages' sources, as jest does. */
function sourceTsconfig(dir: string): string {
  const file = path.join(dir, 'tsconfig.json');
  writeFileSync(
    file,
    JSON.stringify({
      extends: path.join(ROOT, 'tsconfig.base.json'),
      compilerOptions: {
        baseUrl: ROOT,
        paths: { '@shop/platform/otel': ['platform/src/otel.ts'], '@shop/*': ['*/src/index.ts'] },
      },
    }),
  );
  return file;
}

async function waitAnswering(child: Child, dir: string): Promise<void> {
  const deadline = Date.now() + 120_000; // a loaded box can take half a minute to start a gateway
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) break;
    const ok = await fetch(`${child.url}/health`, { signal: AbortSignal.timeout(1_000) })
      .then((response) => response.status === 200)
      .catch(() => false);
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${child.name} did not answer /health; see ${path.join(dir, `${child.name}.log`)}`);
}

const products: BenchProduct[] = Array.from({ length: 20 }, (_, index) => ({ id: index + 1, name: '', price: '1.00' }));
let tokens: string[] = [];

/** N POST /api/v1/orders at `connections`; fails on any answer but 201. */
async function drive(url: string, amount: number, connections: number): Promise<{ seconds: number }> {
  const wrong: Record<string, number> = {};
  const result = await autocannon({
    url,
    connections,
    amount,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/orders',
        setupRequest: (req) => ({
          ...req,
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${tokens[Math.floor(Math.random() * USERS)]}`,
          },
          body: JSON.stringify({ items: randomOrder(products) }),
        }),
      },
    ],
    setupClient: (client) =>
      client.on('response', (status) => {
        if (status !== 201) wrong[status] = (wrong[status] ?? 0) + 1;
      }),
  });
  if (Object.keys(wrong).length > 0 || result.errors + result.timeouts > 0)
    throw new Error(`answers other than 201: ${JSON.stringify(wrong)}, errors ${result.errors}, timeouts ${result.timeouts}`);
  return { seconds: result.duration };
}

async function measure(child: Child, amount: number, connections: number, round: number): Promise<number> {
  const pid = child.process.pid!;
  const before = cpuMs(pid);
  const { seconds } = await drive(child.url, amount, connections);
  const after = cpuMs(pid);
  const [user, system] = [(after.user - before.user) / amount, (after.system - before.system) / amount];
  const perRequest = user + system;
  console.log(
    `round ${round}  ${child.name.padEnd(9)} ${amount} requests in ${seconds.toFixed(1)} s (${Math.round(amount / seconds)}/s): ` +
      `${perRequest.toFixed(3)} ms CPU per request (user ${user.toFixed(3)}, system ${system.toFixed(3)})`,
  );
  return perRequest;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const amount = Number(option('requests') ?? 20_000);
  const rounds = Number(option('rounds') ?? 3);
  const connections = Number(option('connections') ?? 8);
  const fromDist = option('from') !== 'source';
  const base = option('base');
  const profile = flag('profile');
  const limit = flag('limits') ? '1000000' : '0';
  const dir = mkdtempSync(path.join(tmpdir(), 'gateway-only-'));
  tokens = await Promise.all(
    Array.from({ length: USERS }, (_, index) => signToken({ userId: index + 1, roles: [] }, JWT_SECRET)),
  );

  const upstream = await upstreamStub();
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const [gatewayPort, basePort, rawPort] = await freePorts(3);
  const tsx = ['--import', 'tsx'];
  const gatewayEnv = (port: number) => ({
    TSX_TSCONFIG_PATH: sourceTsconfig(dir),
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    JWT_SECRET,
    PORT: String(port),
    PRODUCT_SERVICE_URL: upstreamUrl,
    ORDER_SERVICE_URL: upstreamUrl,
    NOTIFICATION_SERVICE_URL: upstreamUrl,
    RATE_LIMIT_PER_MINUTE: limit,
    RATE_LIMIT_WRITES_PER_MINUTE: limit,
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: limit,
    METRICS_PORT: '0',
  });
  const gateway = spawnChild(
    'gateway',
    dir,
    gatewayPort,
    [
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []),
      ...(fromDist ? ['gateway/dist/src/main.js'] : [...tsx, 'gateway/src/main.ts']),
    ],
    gatewayEnv(gatewayPort),
  );
  // Another checkout's built gateway (a `git worktree` of the commit before a change), measured in
  // the same rounds: on a noisy box, a change is judged against its base in one run, not across runs.
  const baseGateway =
    base && spawnChild('base', dir, basePort, [path.join(path.resolve(base), 'gateway/dist/src/main.js')], gatewayEnv(basePort));
  const raw = spawnChild('raw proxy', dir, rawPort, [...tsx, __filename, '--role=raw-proxy', `--port=${rawPort}`, `--upstream=${upstreamUrl}`], {});
  const children = [gateway, ...(baseGateway ? [baseGateway] : []), raw];
  try {
    await Promise.all(children.map((child) => waitAnswering(child, dir)));
    console.log(
      `gateway from ${fromDist ? 'dist' : 'source'}${base ? `, base: ${base}` : ''}, rate limits ${limit === '0' ? 'off (as the bench)' : 'on'}, ` +
        `${amount} requests per round at ${connections} connections; logs in ${dir}`,
    );
    for (const child of children) await drive(child.url, Math.min(5_000, amount), connections); // warm-up
    const figures = new Map<string, number[]>(children.map((child) => [child.name, []]));
    for (let round = 1; round <= rounds; round++)
      for (const child of round % 2 ? children : [...children].reverse())
        figures.get(child.name)!.push(await measure(child, amount, connections, round));
    console.log(
      `median CPU per request: ${children.map((child) => `${child.name} ${median(figures.get(child.name)!).toFixed(3)} ms`).join(', ')}`,
    );
  } finally {
    for (const child of children) child.process.kill('SIGTERM');
    await Promise.all(children.map((child) => child.exited));
    upstream.close();
  }
  if (profile) {
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no profile in ${dir}`);
    const summary = spawn(process.execPath, [...tsx, path.join(ROOT, 'bench/profile-summary.ts'), path.join(dir, file), '30'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    await new Promise((resolve) => summary.once('exit', resolve));
  }
}

if (option('role') === 'raw-proxy') rawProxy(Number(option('port')), option('upstream')!);
else
  main().catch((error: Error) => {
    console.error(error);
    process.exit(1);
  });
