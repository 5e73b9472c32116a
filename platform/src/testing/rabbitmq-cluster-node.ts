import { execFile, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { ToolError } from '../tools/tool-error';

/**
 * One node of the local RabbitMQ cluster: where its files live and how its process is driven with
 * the broker's own commands (recipe and pitfalls: notes/rabbitmq-cluster-local.md). The machine's
 * own node, rabbit@localhost on 5672, is never addressed: every command names its node.
 */

const run = promisify(execFile);

export type NodeNumber = 1 | 2 | 3;
export const NODE_NUMBERS: readonly NodeNumber[] = [1, 2, 3];

export interface ClusterNode {
  number: NodeNumber;
  /** shopc1@localhost: a short name, as epmd listens on 127.0.0.1 only. */
  name: string;
  amqpPort: number;
  managementPort: number;
  /** Erlang distribution port: the default one belongs to rabbit@localhost. */
  distPort: number;
  dir: string;
  pidFile: string;
  logDir: string;
}

/** The one state folder, found again by `stop` and `status` because its path never changes. */
export function clusterStateDir(): string {
  return process.env.SHOP_CLUSTER_DIR ?? join(tmpdir(), 'shop-cluster');
}

export function clusterNode(number: NodeNumber): ClusterNode {
  const dir = join(clusterStateDir(), `n${number}`);
  return {
    number,
    name: `shopc${number}@localhost`,
    amqpPort: 5680 + number,
    managementPort: 15680 + number,
    distPort: 25680 + number,
    dir,
    pidFile: join(dir, 'pid'),
    logDir: join(dir, 'log'),
  };
}

/**
 * Writes each node's config and plugins file (again, if they exist: it is idempotent). What is
 * written here must belong to `rabbitmq`; the nodes create the rest of their folders themselves.
 */
export async function prepareStateDir(): Promise<void> {
  const owner = await brokerUser();
  const own = async (path: string) => {
    if (owner) await chown(path, owner.uid, owner.gid);
  };
  const root = clusterStateDir();
  await mkdir(root, { recursive: true, mode: 0o755 });
  await own(root);
  for (const number of NODE_NUMBERS) {
    const node = clusterNode(number);
    await mkdir(node.dir, { recursive: true, mode: 0o755 });
    // Its own listener line: /etc/rabbitmq/rabbitmq.conf pins 5672, which RABBITMQ_NODE_PORT cannot override.
    const config = [
      `listeners.tcp.local = 127.0.0.1:${node.amqpPort}`,
      `management.tcp.ip = 127.0.0.1`,
      `management.tcp.port = ${node.managementPort}`,
      'loopback_users = none',
      'cluster_name = shop-local',
    ];
    await writeFile(join(node.dir, 'rabbitmq.conf'), `${config.join('\n')}\n`);
    await writeFile(join(node.dir, 'plugins'), '[rabbitmq_management].\n');
    for (const path of [node.dir, join(node.dir, 'rabbitmq.conf'), join(node.dir, 'plugins')])
      await own(path);
  }
}

/** The account the Debian wrapper switches to when root runs the broker; none elsewhere. */
async function brokerUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const line = passwd.split('\n').find((entry) => entry.startsWith('rabbitmq:'));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function removeStateDir(): Promise<void> {
  await rm(clusterStateDir(), { recursive: true, force: true });
}

/**
 * The node's OS process, from its pid file, when it is alive and really this node (a stale pid
 * file may name a pid the system has since given to another program).
 */
export async function runningPid(node: ClusterNode): Promise<number | undefined> {
  const pid = Number((await readFile(node.pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  if (!existsSync('/proc')) return pid;
  const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
  return environ.split('\0').includes(`RABBITMQ_NODENAME=${node.name}`) ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Refuses to launch into a port or a node name someone else holds, with the reason in one line. */
export async function assertNodeCanLaunch(node: ClusterNode): Promise<void> {
  if ((await registeredNodeNames()).includes(node.name.split('@')[0]))
    throw new ToolError(
      `a node named ${node.name} is already running but not from ${clusterStateDir()}; stop it with \`rabbitmqctl -n ${node.name} stop\``,
    );
  for (const [port, use] of [
    [node.amqpPort, 'AMQP'],
    [node.managementPort, 'management UI'],
    [node.distPort, 'Erlang distribution'],
  ] as const) {
    if (await portInUse(port))
      throw new ToolError(
        `port ${port} (${use} of ${node.name}) is in use by another process; the local cluster needs 5681-5683, 15681-15683 and 25681-25683 free`,
      );
  }
}

async function registeredNodeNames(): Promise<string[]> {
  // epmd answers even when no node of ours runs (rabbit@localhost keeps it up); if it is down, no name is taken.
  const listing = await run('epmd', ['-names']).catch(() => ({ stdout: '' }));
  return [...listing.stdout.matchAll(/^name (\S+) at port/gm)].map((match) => match[1]);
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

/**
 * Starts the node's Erlang VM in the background (`rabbitmq-server -detached`) and returns once
 * it is launched, not booted: `awaitBoot` waits for that.
 */
export async function launchNode(node: ClusterNode): Promise<void> {
  await rm(node.pidFile, { force: true }); // `rabbitmqctl wait` would read a killed node's stale pid
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node.name,
    RABBITMQ_DIST_PORT: String(node.distPort),
    RABBITMQ_CONFIG_FILE: join(node.dir, 'rabbitmq'), // without `.conf`: the broker appends it
    RABBITMQ_MNESIA_BASE: join(node.dir, 'mnesia'),
    RABBITMQ_LOG_BASE: node.logDir,
    RABBITMQ_PID_FILE: node.pidFile,
    RABBITMQ_ENABLED_PLUGINS_FILE: join(node.dir, 'plugins'),
  };
  // Output goes to a file, not a pipe: the detached VM inherits the descriptors and would hold a pipe open.
  const launchLog = join(node.dir, 'launch.log');
  const output = openSync(launchLog, 'w');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(brokerCommand('rabbitmq-server'), ['-detached'], {
        env,
        stdio: ['ignore', output, output],
      });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) {
      const said = (await readFile(launchLog, 'utf8').catch(() => '')).trim().split('\n')[0];
      throw new ToolError(
        `rabbitmq-server could not launch ${node.name} (exit ${code}): ${said || 'no output'}`,
      );
    }
  } finally {
    closeSync(output);
  }
}

/** Waits until the node's RabbitMQ app runs, failing early if its process dies while booting. */
export async function awaitBoot(node: ClusterNode, timeoutSeconds: number): Promise<void> {
  await rabbitmqctl(node, ['wait', node.pidFile, '--timeout', String(timeoutSeconds)], timeoutSeconds).catch(
    (error: ToolError) => {
      throw new ToolError(`${error.message}; its log: ${node.logDir}`);
    },
  );
}

/** `rabbitmqctl -n <node> …`, with a failure turned into the command's first line of complaint. */
export async function rabbitmqctl(node: ClusterNode, args: string[], timeoutSeconds = 60): Promise<string> {
  try {
    const { stdout } = await run(brokerCommand('rabbitmqctl'), ['-n', node.name, '-q', ...args], {
      timeout: (timeoutSeconds + 15) * 1000,
    });
    return stdout;
  } catch (error) {
    const failed = error as { stderr?: string; stdout?: string; message: string };
    const said = `${failed.stderr ?? ''}\n${failed.stdout ?? ''}`
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line !== '' && !line.startsWith('Error:'));
    throw new ToolError(`rabbitmqctl ${args[0]} on ${node.name} failed: ${said ?? failed.message}`);
  }
}

const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/opt/homebrew/sbin'];

/** The broker's commands live in sbin, which a non-root PATH often lacks. */
function brokerCommand(name: 'rabbitmq-server' | 'rabbitmqctl'): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SBIN_DIRS];
  const found = dirs.map((dir) => join(dir, name)).find((path) => path && existsSync(path));
  if (!found)
    throw new ToolError(
      `${name} is not installed (looked in PATH and ${SBIN_DIRS.join(', ')}); install RabbitMQ (apt-get install rabbitmq-server) or use Docker (docker-compose.cluster.yml)`,
    );
  return found;
}

/** Fails with the install hint before anything is written or launched. */
export function assertBrokerInstalled(): void {
  brokerCommand('rabbitmq-server');
  brokerCommand('rabbitmqctl');
}
