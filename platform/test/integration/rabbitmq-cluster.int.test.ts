import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { QueueSpec } from '@shop/contracts';
import { connect, type ConfirmChannel } from 'amqplib';
import { createLogger } from '../../src/logger';
import { createBrokerConnection, createConsumer, declareTopology } from '../../src/messaging';
import {
  buildOrderCreated,
  capturingLogger,
  clusterAmqpUrls,
  clusterStateDir,
  eventually,
  killNode,
  localClusterStatus,
  lockLocalCluster,
  startLocalCluster,
  startNode,
  stopLocalCluster,
  stopNode,
  type LocalClusterLock,
} from '../../src/testing';

const ALL_NODES = ['shopc1@localhost', 'shopc2@localhost', 'shopc3@localhost'];
/** Three nodes take about 20 s to boot; a loaded 2-core machine may take several times that. */
const CLUSTER_TIMEOUT_MS = 240_000;

/**
 * Every process one of our nodes started carries its node name in its environment: the Erlang VM
 * and its helpers (erl_child_setup, inet_gethost). epmd is left out: the machine's own node shares
 * it, and it outlives every node by design.
 */
async function processesOfOurNodes(): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (!/(^|\0)RABBITMQ_NODENAME=shopc\d@localhost(\0|$)/.test(environ)) continue;
    const command = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0')[0];
    if (!command.endsWith('/epmd')) found.push(`${pid} ${command}`);
  }
  return found;
}

/**
 * The local cluster of `npm run cluster` (SPEC §9), on which the broker failover tests run. Each
 * test starts it itself — after the first, that start finds it running and leaves it as it is — and
 * the file stops it at the end, so a cluster running before this file ran is stopped too.
 */
describe('the local RabbitMQ cluster', () => {
  // Other files use the same cluster (e2e's broker-node loss): one file at a time (lockLocalCluster).
  let lock: LocalClusterLock;
  beforeAll(async () => {
    lock = await lockLocalCluster();
  }, 11 * 60_000);
  afterAll(async () => {
    try {
      await stopLocalCluster();
    } finally {
      await lock?.release();
    }
  }, CLUSTER_TIMEOUT_MS);

  test(
    'its three nodes are one cluster: a quorum queue declared and published to through node 1 is read through node 3',
    async () => {
      // Arrange
      await startLocalCluster();
      const [node1Url, , node3Url] = clusterAmqpUrls();
      const queue = `cluster-test-${randomBytes(4).toString('hex')}`;
      const viaNode1 = await connect(node1Url);
      const viaNode3 = await connect(node3Url);
      try {
        // Act
        const publisher = await viaNode1.createConfirmChannel();
        await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
        publisher.sendToQueue(queue, Buffer.from('across the cluster'), { persistent: true });
        await publisher.waitForConfirms();
        const reader = await viaNode3.createChannel();
        const message = await reader.get(queue, { noAck: true });

        // Assert
        expect(message && message.content.toString()).toBe('across the cluster');
        expect(await localClusterStatus()).toMatchObject({ members: ALL_NODES, running: ALL_NODES });
        await reader.deleteQueue(queue);
      } finally {
        await Promise.all([viaNode1.close(), viaNode3.close()]);
      }
    },
    CLUSTER_TIMEOUT_MS,
  );

  test(
    'when node 2 is stopped the cluster reports it down but still a member, and up again once it is started',
    async () => {
      // Arrange
      await startLocalCluster();

      // Act
      await stopNode(2);
      const whileStopped = await eventually(
        async () => {
          const status = await localClusterStatus();
          return !status.running.includes('shopc2@localhost') && status;
        },
        { description: 'node 2 reported down', timeoutMs: 30_000 },
      );
      await startNode(2);

      // Assert
      expect(whileStopped.members).toEqual(ALL_NODES);
      expect(whileStopped.running).toEqual(['shopc1@localhost', 'shopc3@localhost']);
      expect(whileStopped.nodes[1]).toMatchObject({ running: false, member: true, pid: expect.any(Number) });
      await eventually(async () => expect((await localClusterStatus()).running).toEqual(ALL_NODES), {
        description: 'node 2 reported up again',
        timeoutMs: 30_000,
      });
    },
    CLUSTER_TIMEOUT_MS,
  );

  test(
    'start completes a half-started cluster: a killed node is launched again and rejoins, the others are left as they are',
    async () => {
      // Arrange
      await startLocalCluster();
      const before = await localClusterStatus();
      await killNode(3);

      // Act
      const reports = await startLocalCluster();

      // Assert
      expect(reports.map((report) => report.action)).toEqual([
        'already running',
        'already running',
        'launched',
      ]);
      const after = await eventually(
        async () => {
          const status = await localClusterStatus();
          return status.running.length === 3 && status;
        },
        { description: 'node 3 running again', timeoutMs: 30_000 },
      );
      expect(after.members).toEqual(ALL_NODES);
      expect(after.nodes.map((node) => node.pid).slice(0, 2)).toEqual(
        before.nodes.map((node) => node.pid).slice(0, 2),
      );
      expect(after.nodes[2].pid).not.toBe(before.nodes[2].pid);
    },
    CLUSTER_TIMEOUT_MS,
  );

  test(
    'with every node in AMQP_URL, a publisher and a consumer lose nothing when the node they are on is killed, and go on through another',
    async () => {
      // Arrange: one service-style connection over the three nodes; a quorum queue replicated on all.
      await startLocalCluster();
      const { logger: connectionLogger, lines } = capturingLogger('info');
      const quiet = createLogger('cluster-failover-test');
      quiet.silent = !process.env.LOG_LEVEL;
      const connection = createBrokerConnection({
        url: clusterAmqpUrls().join(','),
        logger: connectionLogger,
        reconnect: { initialMs: 100, maxMs: 1_000 },
      });
      const key = randomBytes(4).toString('hex');
      const queue: QueueSpec = {
        name: `cluster-test.failover.${key}`,
        bindings: [{ exchange: 'orders', routingKey: `${key}.#` }],
      };
      const received = new Set<string>();
      const consumer = createConsumer({
        connection,
        queue,
        logger: quiet,
        handlers: { OrderCreated: async (event) => void received.add(event.id) },
      });
      const publisher = connection.createChannel({
        name: 'cluster-test-publisher',
        confirm: true,
        setup: (channel: ConfirmChannel) => declareTopology(channel, [queue]),
      });
      /**
       * Publishes one event until the broker confirms it. While the queue's leader moves to another
       * node the broker may nack a publish: it declined the message, it did not lose it, and the
       * publisher sends it again (as the outbox relay does).
       */
      const publishConfirmed = async (event: ReturnType<typeof buildOrderCreated>) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await publisher.publish(
              'orders',
              `${key}.order.created`,
              Buffer.from(JSON.stringify(event)),
              {
                persistent: true,
                messageId: event.id,
                type: 'OrderCreated',
                contentType: 'application/cloudevents+json',
              },
            );
          } catch (error) {
            if (attempt >= 50) throw error;
            await sleep(200);
          }
        }
      };
      /** Publishes `count` OrderCreated and resolves with their ids once the broker confirmed each. */
      const publish = async (count: number) => {
        const events = Array.from({ length: count }, () => buildOrderCreated());
        await Promise.all(events.map(publishConfirmed));
        return events.map((event) => event.id);
      };
      const connectedTo = () =>
        lines.filter((line) => line.message === 'broker connected').map((line) => line.broker);
      try {
        consumer.start();
        await consumer.waitUntilConsuming(30_000);
        const before = await publish(50);
        const nodeInUse = Number(new URL(String(connectedTo().at(-1))).port) - 5680;

        // Act: the node this process is connected to dies.
        const killedAt = performance.now();
        await killNode(nodeInUse as 1 | 2 | 3);
        const after = await publish(50);
        const publishingResumedMs = performance.now() - killedAt;
        await eventually(() => after.every((id) => received.has(id)), {
          description: 'every event confirmed after the kill consumed',
          timeoutMs: 60_000,
        });
        const consumingResumedMs = performance.now() - killedAt;
        quiet.info('cluster failover', { nodeInUse, publishingResumedMs, consumingResumedMs });

        // Assert: nothing the broker confirmed was lost, and the connection moved to another node.
        expect([...before, ...after].filter((id) => !received.has(id))).toEqual([]);
        const nodes = connectedTo().map((url) => Number(new URL(String(url)).port) - 5680);
        expect(nodes[0]).toBe(nodeInUse);
        expect(nodes.slice(1)).not.toContain(nodeInUse);
      } finally {
        await consumer.stop();
        await connection.close();
      }
    },
    CLUSTER_TIMEOUT_MS,
  );

  test(
    'stopping it leaves no process of ours and no folder behind',
    async () => {
      // Arrange
      await startLocalCluster();
      const running = await processesOfOurNodes();

      // Act
      await stopLocalCluster();

      // Assert
      expect(running.length).toBeGreaterThanOrEqual(3); // the three VMs at least: the probe sees ours
      expect(await processesOfOurNodes()).toEqual([]);
      expect(existsSync(clusterStateDir())).toBe(false);
      expect(await localClusterStatus()).toMatchObject({ exists: false, running: [] });
    },
    CLUSTER_TIMEOUT_MS,
  );
});
