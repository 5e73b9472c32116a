import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { QUEUES } from '@shop/contracts';
import { connect } from 'amqplib';
import { declareTopology, DELIVERY_LIMIT } from '../../src/messaging';
import { buildOrderCreated, createTestVhost, useContainers } from '../../src/testing';
import { buildDefinitions, renderDefinitions } from '../../src/tools';

const run = promisify(execFile);
/**
 * `rabbitmqctl import_definitions <file>`. rabbitmqctl runs as the broker's user, so the file must
 * be world-readable (a mkdtemp directory is not) and stdin is not passed through.
 */
async function importDefinitions(json: string): Promise<void> {
  const file = join(tmpdir(), `shop-definitions-${randomBytes(6).toString('hex')}.json`);
  writeFileSync(file, json, { mode: 0o644 });
  try {
    await run('rabbitmqctl', ['-q', 'import_definitions', file]);
  } finally {
    rmSync(file, { force: true });
  }
}

const CHECKED_IN = join(__dirname, '..', '..', '..', 'rabbitmq', 'definitions.json');

describe('RabbitMQ definitions export', () => {
  test('the checked-in rabbitmq/definitions.json is what the topology declares today', async () => {
    // Arrange
    const expected = await renderDefinitions();

    // Act
    const checkedIn = readFileSync(CHECKED_IN, 'utf8');

    // Assert
    if (checkedIn !== expected) {
      throw new Error(
        'rabbitmq/definitions.json is stale: regenerate it with `npm run topology:export` and commit it',
      );
    }
  });

  test('every contract queue is a quorum queue dead-lettering through dlx into its own DLQ', async () => {
    // Act
    const definitions = await buildDefinitions();

    // Assert
    expect(definitions.exchanges.map(({ name, type, durable }) => ({ name, type, durable }))).toEqual([
      { name: 'orders', type: 'topic', durable: true },
      { name: 'inventory', type: 'topic', durable: true },
      { name: 'dlx', type: 'direct', durable: true },
    ]);
    for (const queue of Object.values(QUEUES)) {
      const main = definitions.queues.find((q) => q.name === queue.name);
      const dlq = definitions.queues.find((q) => q.name === `${queue.name}.dlq`);
      expect(main).toMatchObject({
        vhost: '/',
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-dead-letter-exchange': 'dlx',
          'x-dead-letter-routing-key': queue.name,
          'x-delivery-limit': DELIVERY_LIMIT,
        },
      });
      expect(dlq).toMatchObject({ durable: true, arguments: { 'x-queue-type': 'quorum' } });
      const bindingsTo = (name: string) =>
        definitions.bindings
          .filter((b) => b.destination === name)
          .map((b) => ({ exchange: b.source, routingKey: b.routing_key }));
      expect(bindingsTo(queue.name)).toEqual(queue.bindings);
      expect(bindingsTo(`${queue.name}.dlq`)).toEqual([{ exchange: 'dlx', routingKey: queue.name }]);
    }
  });

  // Importing needs rabbitmqctl on this machine's broker (the testcontainers path has no handle on it).
  const onLocalBroker = useContainers() ? test.skip : test;

  onLocalBroker(
    'a broker that imported the file accepts every service declaration unchanged and routes events',
    async () => {
      // Arrange
      const vhost = await createTestVhost();
      const user = {
        name: `shop_defs_${randomBytes(4).toString('hex')}`,
        password: randomBytes(8).toString('hex'),
      };
      const definitions = await renderDefinitions({ vhost: vhost.vhost, user });
      const url = new URL(vhost.url);
      url.username = user.name;
      url.password = user.password;
      try {
        // Act
        await importDefinitions(definitions);

        // Assert: the account's hash works, and asserting with different arguments would throw PRECONDITION_FAILED.
        const model = await connect(url.toString());
        const channel = await model.createConfirmChannel();
        await declareTopology(channel, Object.values(QUEUES));
        const event = buildOrderCreated();
        channel.publish('orders', 'order.created', Buffer.from(JSON.stringify(event)), {
          messageId: event.id,
        });
        await channel.waitForConfirms();
        const depth = async (queue: string) => (await channel.checkQueue(queue)).messageCount;
        expect(await depth(QUEUES.productOrders.name)).toBe(1);
        expect(await depth(QUEUES.notificationEvents.name)).toBe(1);
        expect(await depth(QUEUES.orderInventory.name)).toBe(0);
        await model.close();
      } finally {
        await run('rabbitmqctl', ['-q', 'delete_user', user.name]).catch(() => undefined);
        await vhost.drop();
      }
    },
  );
});
