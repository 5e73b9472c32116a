import { existsSync } from 'node:fs';
import { ToolError } from '../tools/tool-error';
import {
  assertBrokerInstalled,
  assertNodeCanLaunch,
  awaitBoot,
  clusterNode,
  clusterStateDir,
  isAlive,
  launchNode,
  NODE_NUMBERS,
  prepareStateDir,
  rabbitmqctl,
  removeStateDir,
  runningPid,
  type ClusterNode,
  type NodeNumber,
} from './rabbitmq-cluster-node';

/**
 * A 3-node RabbitMQ cluster on this machine without Docker (SPEC §9), for `npm run cluster` and
 * for tests of broker failover: nodes shopc1..3@localhost, AMQP on 5681-5683, the management UI on
 * 15681-15683 (guest/guest), all state in one folder that `stopLocalCluster` removes. Nodes keep
 * their data through `stopNode`/`killNode`, so quorum queue replicas come back with them.
 */

export { clusterStateDir, type NodeNumber } from './rabbitmq-cluster-node';

/** How long one node may take to boot; three idle nodes take about 20 s on these machines. */
const BOOT_TIMEOUT_SECONDS = 120;

export type NodeAction =
  | 'launched'
  | 'app started'
  | 'already running'
  | 'joined the cluster'
  | 'launched and joined the cluster'
  | 'app stopped'
  | 'already stopped'
  | 'killed'
  | 'stopped';

export interface NodeReport {
  name: string;
  action: NodeAction;
}

export interface NodeStatus {
  number: NodeNumber;
  name: string;
  amqpUrl: string;
  managementUrl: string;
  /** The node's Erlang VM, when its process is alive. */
  pid?: number;
  /** Its RabbitMQ app runs, as a running member of the cluster sees it, in a process of ours. */
  running: boolean;
  /** Listed among the cluster's nodes by a running member. */
  member: boolean;
}

export interface LocalClusterStatus {
  dir: string;
  /** False when there is no state folder: no cluster was started, or it was stopped. */
  exists: boolean;
  nodes: NodeStatus[];
  /** The cluster's membership, from the first node whose management API answered; [] if none did. */
  members: string[];
  /** The nodes whose `running` is true. */
  running: string[];
}

/** The AMQP URL of each node, node 1 first; join them with commas for a broker list. */
export function clusterAmqpUrls(): string[] {
  return NODE_NUMBERS.map((number) => `amqp://guest:guest@127.0.0.1:${clusterNode(number).amqpPort}`);
}

/**
 * Brings all three nodes up as one cluster. Idempotent: a running cluster is left as it is, and a
 * half-started one is completed (dead nodes launched, stopped apps started, strays joined to node 1).
 */
export async function startLocalCluster(): Promise<NodeReport[]> {
  assertBrokerInstalled();
  await prepareStateDir();
  const nodes = NODE_NUMBERS.map(clusterNode);
  const seen = await readClusterView(nodes);
  const states = await Promise.all(nodes.map((node) => nodeState(node, seen)));
  // Every launch is checked before any starts, so a taken port leaves nothing half-launched behind.
  for (const [index, node] of nodes.entries())
    if (states[index] === 'no process') await assertNodeCanLaunch(node);
  const actions = await Promise.all(nodes.map((node, index) => bringUp(node, states[index])));
  const cluster = await readClusterView([nodes[0]], { retryForMs: 30_000 });
  // Without node 1's word on membership, joining would reset nodes that may already hold data.
  if (!cluster) throw new ToolError(`${nodes[0].name} runs but its management API did not answer`);
  const strays = nodes.filter((node) => !cluster.members.includes(node.name));
  // join_cluster resets a node (a stray is a fresh one: nothing is lost); each join changes the
  // cluster's membership, so they run one after the other.
  await Promise.all(strays.map((node) => rabbitmqctl(node, ['stop_app'])));
  for (const node of strays) await rabbitmqctl(node, ['join_cluster', nodes[0].name]);
  await Promise.all(strays.map((node) => rabbitmqctl(node, ['start_app'], BOOT_TIMEOUT_SECONDS)));
  for (const node of strays) {
    const index = nodes.indexOf(node);
    actions[index] = actions[index] === 'launched' ? 'launched and joined the cluster' : 'joined the cluster';
  }
  return nodes.map((node, index) => ({ name: node.name, action: actions[index] }));
}

type NodeState = 'running' | 'app stopped' | 'no process';

async function nodeState(node: ClusterNode, seen: ClusterView | undefined): Promise<NodeState> {
  // Our pid file first: a node of that name answering from another state folder is not ours.
  if ((await runningPid(node)) === undefined) return 'no process';
  return seen?.running.includes(node.name) ? 'running' : 'app stopped';
}

async function bringUp(node: ClusterNode, state: NodeState): Promise<NodeAction> {
  switch (state) {
    case 'running':
      return 'already running';
    case 'no process':
      await launchNode(node);
      await awaitBoot(node, BOOT_TIMEOUT_SECONDS);
      return 'launched';
    case 'app stopped':
      // Or still booting: start_app then waits for that boot to finish.
      await rabbitmqctl(node, ['start_app'], BOOT_TIMEOUT_SECONDS);
      return 'app started';
  }
}

/** `rabbitmqctl stop` on each node, then the state folder removed: nothing of the cluster is left. */
export async function stopLocalCluster(): Promise<NodeReport[]> {
  if (!existsSync(clusterStateDir())) return [];
  assertBrokerInstalled();
  // All at once: each takes ~8 s (5 of them the management plugin's), and no data is kept anyway.
  const reports = await Promise.all(
    NODE_NUMBERS.map(clusterNode).map(async (node): Promise<NodeReport> => {
      if ((await runningPid(node)) === undefined) return { name: node.name, action: 'already stopped' };
      // With the pid file, `stop` returns only once the OS process has exited.
      await rabbitmqctl(node, ['stop', node.pidFile]).catch((error: ToolError) => {
        throw new ToolError(
          `${error.message}; kill it with \`npm run cluster -- kill-node ${node.number}\`, then stop again`,
        );
      });
      return { name: node.name, action: 'stopped' };
    }),
  );
  await removeStateDir();
  return reports;
}

/** Stops the node's RabbitMQ app (`stop_app`); its VM stays up and it stays a cluster member. */
export async function stopNode(number: NodeNumber): Promise<NodeReport> {
  const node = existingNode(number);
  if ((await runningPid(node)) === undefined) return { name: node.name, action: 'already stopped' };
  await rabbitmqctl(node, ['stop_app']);
  return { name: node.name, action: 'app stopped' };
}

/** Starts the node again: `start_app` after `stopNode`, a new VM after `killNode`. */
export async function startNode(number: NodeNumber): Promise<NodeReport> {
  const node = existingNode(number);
  assertBrokerInstalled();
  const state = await nodeState(node, await readClusterView([node]));
  if (state === 'no process') await assertNodeCanLaunch(node);
  return { name: node.name, action: await bringUp(node, state) };
}

/** `kill -9` of the node's VM, as a crash or a lost machine would end it. */
export async function killNode(number: NodeNumber): Promise<NodeReport> {
  const node = existingNode(number);
  const pid = await runningPid(node);
  if (pid === undefined) throw new ToolError(`${node.name} has no running process to kill`);
  process.kill(pid, 'SIGKILL');
  // Returns once it is gone, so the caller's next step sees a dead node.
  while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
  return { name: node.name, action: 'killed' };
}

/**
 * Each node's state and the cluster's membership, read from the nodes' management API. A node
 * counts as running only with a live process from our state folder.
 */
export async function localClusterStatus(): Promise<LocalClusterStatus> {
  const dir = clusterStateDir();
  const exists = existsSync(dir);
  const nodes = NODE_NUMBERS.map(clusterNode);
  const view = exists ? await readClusterView(nodes) : undefined;
  const statuses: NodeStatus[] = await Promise.all(
    nodes.map(async (node) => {
      const pid = exists ? await runningPid(node) : undefined;
      return {
        number: node.number,
        name: node.name,
        amqpUrl: `amqp://127.0.0.1:${node.amqpPort}`,
        managementUrl: `http://127.0.0.1:${node.managementPort}`,
        pid,
        running: pid !== undefined && (view?.running.includes(node.name) ?? false),
        member: view?.members.includes(node.name) ?? false,
      };
    }),
  );
  return {
    dir,
    exists,
    members: view?.members ?? [],
    running: statuses.filter((node) => node.running).map((node) => node.name),
    nodes: statuses,
  };
}

function existingNode(number: NodeNumber): ClusterNode {
  if (!NODE_NUMBERS.includes(number))
    throw new ToolError(`there is no node ${number}; nodes are 1, 2 and 3`, 2);
  if (!existsSync(clusterStateDir()))
    throw new ToolError(
      `no local cluster at ${clusterStateDir()}; start one with \`npm run cluster -- start\``,
    );
  return clusterNode(number);
}

interface ClusterView {
  members: string[];
  running: string[];
}

/**
 * The cluster as the first of `nodes` whose management API answers sees it: one HTTP request,
 * far cheaper than a `rabbitmqctl` (an Erlang VM of its own), so tests may poll it.
 */
async function readClusterView(
  nodes: ClusterNode[],
  { retryForMs = 0 }: { retryForMs?: number } = {},
): Promise<ClusterView | undefined> {
  const deadline = Date.now() + retryForMs;
  for (;;) {
    for (const node of nodes) {
      const view = await askNodes(node);
      if (view) return view;
    }
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function askNodes(node: ClusterNode): Promise<ClusterView | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${node.managementPort}/api/nodes?columns=name,running`, {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
      signal: AbortSignal.timeout(3_000),
    });
    if (!response.ok) return undefined;
    const listed = (await response.json()) as { name: string; running: boolean }[];
    return {
      members: listed.map((entry) => entry.name).sort(),
      running: listed
        .filter((entry) => entry.running)
        .map((entry) => entry.name)
        .sort(),
    };
  } catch {
    return undefined;
  }
}
