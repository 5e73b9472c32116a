import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import type { QueueSpec } from '@shop/contracts';
import { brokerUrls, createBrokerConnection, createConsumer } from '../../src/messaging';
import { buildOrderCreated, capturingLogger, createTcpProxy, eventually } from '../../src/testing';
import { createMessagingWorld, logger, type MessagingWorld } from './support/fixtures';
import { publishRaw } from './support/queue-probe';

/*
 * AMQP_URL may name several brokers, the nodes of one cluster (SPEC §9). Here the "nodes" are one
 * broker reached two ways — through a TCP hop the test can cut, and directly — which is all a
 * client can tell apart: an address that answers and one that does not.
 */

const queueFor = (name: string): QueueSpec => ({
  name: `test.${name}`,
  bindings: [{ exchange: 'orders', routingKey: `${name}.#` }],
});

/** A backoff so long that a test waiting on it would time out: failing over must not wait for it. */
const NEVER_WITHIN_A_TEST = { initialMs: 600_000, maxMs: 600_000 };

/** How the connection logs a URL: its password hidden. */
const redacted = (url: string) => new URL(url).toString().replace(':guest@', ':***@');

/** A URL on which nothing listens (port 1), in the test's vhost. */
const unreachable = (url: string) => {
  const parsed = new URL(url);
  parsed.port = '1';
  return parsed.toString();
};

describe('a broker connection over several brokers', () => {
  let world: MessagingWorld;

  beforeAll(async () => {
    world = await createMessagingWorld();
  });
  afterAll(() => world.teardown());

  test('when the first broker listed is unreachable, it connects to the next one without waiting', async () => {
    // Arrange
    const { logger: connectionLogger, lines } = capturingLogger('info');
    const connection = createBrokerConnection({
      url: `${unreachable(world.vhost.url)},${world.vhost.url}`,
      logger: connectionLogger,
      reconnect: NEVER_WITHIN_A_TEST,
    });

    try {
      // Act
      await connection.waitForConnect(10_000);

      // Assert
      expect(connection.isConnected()).toBe(true);
      const messages = lines.map((line) => `${String(line.message)} @ ${String(line.broker)}`);
      expect(messages).toEqual([
        `broker connect failed, trying the next broker @ ${redacted(unreachable(world.vhost.url))}`,
        `broker connected @ ${redacted(world.vhost.url)}`,
      ]);
    } finally {
      await connection.close();
    }
  });

  test('a broker that accepts the connection and never answers is left for the next one after the connect timeout', async () => {
    // Arrange: a listener that accepts and stays silent, as a paused broker process does.
    const accepted = new Set<Socket>();
    const silent = createServer((socket) => void accepted.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = new URL(world.vhost.url);
    silentUrl.port = String((silent.address() as AddressInfo).port);
    const { logger: connectionLogger, lines } = capturingLogger('info');
    const connection = createBrokerConnection({
      url: `${silentUrl.toString()},${world.vhost.url}`,
      logger: connectionLogger,
      reconnect: NEVER_WITHIN_A_TEST,
      connectTimeoutMs: 300,
    });

    try {
      // Act
      await connection.waitForConnect(10_000);

      // Assert
      expect(lines.map((line) => `${String(line.message)} @ ${String(line.broker)}`)).toEqual([
        `broker connect failed, trying the next broker @ ${redacted(silentUrl.toString())}`,
        `broker connected @ ${redacted(world.vhost.url)}`,
      ]);
    } finally {
      await connection.close();
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('connections that spread start at different brokers of the same list, so instances do not all load the first node', async () => {
    // Arrange: three "nodes" (hops to the one broker); each connection logs the broker it is on.
    const port = Number(new URL(world.vhost.url).port || 5672);
    const hops = await Promise.all([1, 2, 3].map(() => createTcpProxy('127.0.0.1', port)));
    const url = hops.map((hop) => hop.url(world.vhost.url)).join(',');
    const { logger: connectionLogger, lines } = capturingLogger('info');
    const connections = Array.from({ length: 12 }, () =>
      createBrokerConnection({ url, logger: connectionLogger, reconnect: NEVER_WITHIN_A_TEST, spread: true }),
    );

    try {
      // Act
      await Promise.all(connections.map((connection) => connection.waitForConnect(10_000)));

      // Assert: twelve connections all on the first node has odds of 3^-11 under a uniform pick.
      const connectedTo = new Set(
        lines.filter((line) => line.message === 'broker connected').map((line) => line.broker),
      );
      expect(connectedTo.size).toBeGreaterThan(1);
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
      await Promise.all(hops.map((hop) => hop.close()));
    }
  });

  test('a consumer whose broker goes away goes on consuming through another one at once, even the first listed', async () => {
    // Arrange: two hops to the broker; the first is down at start, so the consumer is on the last
    // one listed, and the first is back before the last goes away: failing over wraps round the list.
    const port = Number(new URL(world.vhost.url).port || 5672);
    const [first, last] = await Promise.all([
      createTcpProxy('127.0.0.1', port),
      createTcpProxy('127.0.0.1', port),
    ]);
    await first.cut();
    const { logger: connectionLogger, lines } = capturingLogger('info');
    const connected = () =>
      lines.filter((line) => line.message === 'broker connected').map((line) => line.broker);
    const connection = createBrokerConnection({
      url: `${first.url(world.vhost.url)},${last.url(world.vhost.url)}`,
      logger: connectionLogger,
      reconnect: NEVER_WITHIN_A_TEST,
    });
    const handled: string[] = [];
    const consumer = createConsumer({
      connection,
      queue: queueFor('failover'),
      logger,
      handlers: { OrderCreated: async (event) => void handled.push(event.id) },
    });
    consumer.start();
    await consumer.waitUntilConsuming(10_000);
    const before = buildOrderCreated();
    await publishRaw(world.vhost.url, 'orders', 'failover.order.created', JSON.stringify(before));
    await eventually(() => handled.includes(before.id), { description: 'the first event consumed' });
    await first.restore();

    try {
      // Act: the broker it is on goes away for good.
      await last.cut();
      await eventually(() => connected().length === 2, { description: 'reconnected' });
      await consumer.waitUntilConsuming(10_000);
      const after = buildOrderCreated();
      await publishRaw(world.vhost.url, 'orders', 'failover.order.created', JSON.stringify(after));

      // Assert: the first event may come again (its ack can be lost with the connection); this
      // handler has no inbox, so only that the second one arrives through the other broker counts.
      await eventually(() => handled.includes(after.id), { description: 'the second event consumed' });
      expect(new Set(handled)).toEqual(new Set([before.id, after.id]));
      expect(connected()).toEqual([
        redacted(last.url(world.vhost.url)),
        redacted(first.url(world.vhost.url)),
      ]);
    } finally {
      await consumer.stop();
      await connection.close();
      await Promise.all([first.close(), last.close()]);
    }
  });
});

describe('brokerUrls', () => {
  test('reads one URL, or several separated by commas, ignoring spaces and empty entries', () => {
    expect(brokerUrls('amqp://a:5672')).toEqual(['amqp://a:5672']);
    expect(brokerUrls(' amqp://a:5681 , amqps://b:5682,,amqp://c:5683 ')).toEqual([
      'amqp://a:5681',
      'amqps://b:5682',
      'amqp://c:5683',
    ]);
  });

  test.each([
    ['nothing', '', 'no broker URL given'],
    ['a word', 'rabbitmq', 'not a URL: amqp://(unparseable url)'],
    [
      'another protocol among good ones',
      'amqp://a,http://user:secret@b',
      'not an amqp:// or amqps:// URL: http://user:***@b/',
    ],
  ])('refuses %s, naming the entry without its password', (_, value, message) => {
    expect(() => brokerUrls(value)).toThrow(new TypeError(message));
  });
});
