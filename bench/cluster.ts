import {
  clusterAmqpUrls,
  localClusterStatus,
  lockLocalCluster,
  startLocalCluster,
  stopLocalCluster,
} from '@shop/platform/testing';
import { flushQuorumLog, VHOST, type BenchBroker } from './infra';
import { step } from './progress';
import { sleep } from './stats';
import type { ServiceName } from './system';

export const CLUSTER_NODES = 3;
export const CLUSTER_INSTANCES = 2;
/**
 * Each instance's pool with two sets of instances on one Postgres (max_connections 100): the
 * sizes `npm start -- --replicas 2` picks (scripts/start.js, docs/scaling.md), 90 connections in
 * all with each order instance's relay pool of 3, and the rest left for the bench's own pools.
 */
export const CLUSTER_POOL_SIZES: Record<Exclude<ServiceName, 'gateway'>, number> = {
  'product-service': 13,
  'order-service': 10,
  'notification-service': 19,
};

/** Node 1's management API (SPEC §9); a vhost belongs to the whole cluster, so one node is enough. */
const MANAGEMENT_URL = 'http://127.0.0.1:15681';

export interface LocalCluster {
  broker: BenchBroker;
  /** Starts whatever of the cluster is not running. */
  start(): Promise<void>;
  /** Stops the cluster unless all of it ran before, then releases the lock. Safe to call twice. */
  release(): Promise<void>;
}

/**
 * The local 3-node cluster, held under its lock from here until `release`: e2e tests share it, and
 * one of them stopping a node under the bench would make its figures meaningless. A cluster that
 * was already running is used as it is and left running.
 */
export async function lockCluster(): Promise<LocalCluster> {
  step('taking the local cluster lock (e2e tests on this machine share the cluster)');
  const lock = await lockLocalCluster();
  const wasRunning = (await localClusterStatus()).running.length === CLUSTER_NODES;
  let released: Promise<void> | undefined;
  return {
    broker: clusterBroker(),
    async start() {
      const nodes = await startLocalCluster();
      step(`local cluster: ${nodes.map((node) => `${node.name} ${node.action}`).join(', ')}`);
    },
    release: () =>
      (released ??= (async () => {
        try {
          if (!wasRunning) {
            step('stopping the local cluster the bench started');
            await stopLocalCluster();
          }
        } finally {
          await lock.release();
        }
      })()),
  };
}

/** The vhost `shop_bench` on the cluster, made through the management API (rabbitmqctl reaches the machine's own node). */
function clusterBroker(): BenchBroker {
  const vhost = encodeURIComponent(VHOST);
  const dropVhost = async () => {
    await management('DELETE', `/vhosts/${vhost}`).catch(() => undefined);
  };
  return {
    urls: clusterAmqpUrls().map((url) => `${url}/${VHOST}`),
    async createVhost() {
      await dropVhost();
      await management('PUT', `/vhosts/${vhost}`);
      await management('PUT', `/permissions/${vhost}/guest`, { configure: '.*', write: '.*', read: '.*' });
      await vhostRunningOnEveryNode(vhost);
    },
    dropVhost,
    async flushQuorumLog() {
      for (const node of (await localClusterStatus()).running) await flushQuorumLog(node);
    },
  };
}

/** A new vhost starts on each node in its own time; a service connecting to a node too early would be refused. */
async function vhostRunningOnEveryNode(vhost: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await management('GET', `/vhosts/${vhost}`);
    const { cluster_state: state = {} } = (await response.json()) as {
      cluster_state?: Record<string, string>;
    };
    const running = Object.values(state).filter((value) => value === 'running').length;
    if (running === CLUSTER_NODES) return;
    if (Date.now() > deadline)
      throw new Error(
        `vhost ${VHOST} not running on every node within ${timeoutMs} ms: ${JSON.stringify(state)}`,
      );
    await sleep(100);
  }
}

async function management(method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(`${MANAGEMENT_URL}/api${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`,
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok && response.status !== 404)
    throw new Error(`RabbitMQ management ${method} ${path}: ${response.status} ${await response.text()}`);
  return response;
}
