import { QUEUES } from '@shop/contracts';
import { listDeadLetters, purgeDeadLetters, replayDeadLetters, ToolError } from '../../src/tools';
import { buildOrderCreated, eventually } from '../../src/testing';
import { buildInvalidOrderCreated, createToolsWorld, UNREACHABLE_URL, type ToolsWorld } from './support';

const queue = QUEUES.productOrders.name;
const dlq = `${queue}.dlq`;

describe('dlq tools', () => {
  let world: ToolsWorld;

  beforeAll(async () => {
    world = await createToolsWorld();
  });
  afterEach(async () => {
    await world.purgeAll();
  });
  afterAll(async () => {
    await world.teardown();
  });

  /**
   * The DLQ holds `count` messages once what a tool took off and gave back is queued again: the broker
   * requeues a quorum queue's returned messages a moment after the tool's channel has closed.
   */
  const dlqHolds = (count: number) =>
    eventually(async () => expect(await world.depth(dlq)).toBe(count), {
      description: `${dlq} holding ${count} message(s)`,
    });

  /** Publishes to the orders exchange and lets product-service.orders' "consumer" give up on it. */
  const deadLetter = async (body: unknown) => {
    await world.publish(body);
    await world.rejectNext(queue);
  };

  test('list shows a dead-lettered event with its type, id, reason, death count and origin, and leaves it in the DLQ', async () => {
    // Arrange
    const event = buildOrderCreated();
    await deadLetter(event);

    // Act
    const { letters, total } = await listDeadLetters(world.vhost.url, queue);

    // Assert
    expect(total).toBe(1);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      id: event.id,
      type: 'OrderCreated',
      reason: 'rejected',
      deaths: 1,
      replays: 0,
      exchange: 'orders',
      routingKey: 'order.created',
      contract: { ok: true },
      deadLetteredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    await dlqHolds(1);
  });

  test('list accepts the DLQ name as well as the queue name and reports an invalid payload', async () => {
    // Arrange
    const invalid = buildInvalidOrderCreated();
    await deadLetter(invalid);

    // Act
    const { letters } = await listDeadLetters(world.vhost.url, dlq);

    // Assert
    expect(letters).toHaveLength(1);
    expect(letters[0].id).toBe(invalid.id);
    expect(letters[0].contract).toMatchObject({ ok: false, reason: 'invalid_data' });
  });

  test("list with a limit shows that many and the DLQ's total, and keeps them all", async () => {
    // Arrange
    await deadLetter(buildOrderCreated());
    await deadLetter(buildOrderCreated());

    // Act
    const list = await listDeadLetters(world.vhost.url, queue, { limit: 1 });

    // Assert
    expect({ total: list.total, shown: list.letters.length }).toEqual({ total: 2, shown: 1 });
    await dlqHolds(2);
  });

  test('replay republishes a valid event to its original exchange and routing key and removes it from the DLQ', async () => {
    // Arrange
    const event = buildOrderCreated();
    await deadLetter(event);
    await (await world.channel()).purgeQueue(queue);

    // Act
    const outcome = await replayDeadLetters(world.vhost.url, queue);

    // Assert
    expect(outcome.replayed).toEqual([
      { id: event.id, type: 'OrderCreated', exchange: 'orders', routingKey: 'order.created' },
    ]);
    expect(outcome.kept).toEqual([]);
    expect(await world.depth(dlq)).toBe(0);
    const arrived = await (await world.channel()).get(queue, { noAck: true });
    expect(arrived && arrived.properties.messageId).toBe(event.id);
    expect(arrived && JSON.parse(arrived.content.toString())).toEqual(event);
    expect(arrived && arrived.properties.headers).toMatchObject({
      'shop-dlq-replays': 1,
      'shop-dlq-prior-deaths': 1,
    });
    expect(
      Object.keys((arrived && arrived.properties.headers) ?? {}).filter(
        (key) => key.startsWith('x-') && key.includes('death'),
      ),
    ).toEqual([]);
  });

  test('replay keeps an event no queue would receive in the DLQ and says why', async () => {
    // Arrange: a dead letter whose original routing key nothing is bound to (any more).
    const event = buildOrderCreated();
    const channel = await world.channel();
    channel.sendToQueue(dlq, Buffer.from(JSON.stringify(event)), {
      messageId: event.id,
      type: event.type,
      headers: {
        'x-death': [
          { queue, reason: 'rejected', count: 1, exchange: 'orders', 'routing-keys': ['nobody.listens'] },
        ],
      },
    });
    await channel.waitForConfirms();

    // Act
    const outcome = await replayDeadLetters(world.vhost.url, queue);

    // Assert
    expect(outcome.replayed).toEqual([]);
    expect(outcome.kept).toEqual([
      {
        id: event.id,
        type: 'OrderCreated',
        why: 'no queue is bound to exchange "orders" with routing key "nobody.listens"',
      },
    ]);
    await dlqHolds(1);
  });

  test('an event replayed and dead-lettered again counts two deaths and one replay', async () => {
    // Arrange
    const event = buildOrderCreated();
    await deadLetter(event);
    await (await world.channel()).purgeQueue(queue);
    await replayDeadLetters(world.vhost.url, queue);
    await world.rejectNext(queue);

    // Act
    const { letters } = await listDeadLetters(world.vhost.url, queue);

    // Assert
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      id: event.id,
      deaths: 2,
      replays: 1,
      exchange: 'orders',
      routingKey: 'order.created',
    });
  });

  test('replay keeps an event that no longer meets the contract in the DLQ and says why', async () => {
    // Arrange
    const invalid = buildInvalidOrderCreated();
    await deadLetter(invalid);
    await (await world.channel()).purgeQueue(queue);

    // Act
    const outcome = await replayDeadLetters(world.vhost.url, queue);

    // Assert
    expect(outcome.replayed).toEqual([]);
    expect(outcome.kept).toHaveLength(1);
    expect(outcome.kept[0].id).toBe(invalid.id);
    expect(outcome.kept[0].why).toMatch(/invalid_data.*total_amount/);
    await dlqHolds(1);
    expect(await world.depth(queue)).toBe(0);
  });

  test('replay --id replays only that event and leaves the others in the DLQ', async () => {
    // Arrange
    const [first, second] = [buildOrderCreated(), buildOrderCreated()];
    await deadLetter(first);
    await deadLetter(second);
    await (await world.channel()).purgeQueue(queue);

    // Act
    const outcome = await replayDeadLetters(world.vhost.url, queue, { id: second.id });

    // Assert
    expect(outcome.replayed.map((r) => r.id)).toEqual([second.id]);
    await dlqHolds(1);
    const {
      letters: [left],
    } = await listDeadLetters(world.vhost.url, queue);
    expect(left.id).toBe(first.id);
  });

  test('replay --id of an id that is not in the DLQ fails with a clear message', async () => {
    // Arrange
    await deadLetter(buildOrderCreated());

    // Act
    const replay = replayDeadLetters(world.vhost.url, queue, { id: 'no-such-id' });

    // Assert
    await expect(replay).rejects.toThrow(new ToolError(`no message with id no-such-id in ${dlq}`));
  });

  test('purge empties the DLQ and says how many messages it removed', async () => {
    // Arrange
    await deadLetter(buildOrderCreated());
    await deadLetter(buildInvalidOrderCreated());

    // Act
    const result = await purgeDeadLetters(world.vhost.url, queue);

    // Assert
    expect(result).toEqual({ dlq, purged: 2 });
    expect(await world.depth(dlq)).toBe(0);
  });

  test.each([
    ['list', (url: string, q: string) => listDeadLetters(url, q)],
    ['replay', (url: string, q: string) => replayDeadLetters(url, q)],
    ['purge', (url: string, q: string) => purgeDeadLetters(url, q)],
  ])('%s of a queue that does not exist fails with a clear message', async (_name, run) => {
    // Act
    const error = await run(world.vhost.url, 'no-such-service.orders').catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(ToolError);
    expect((error as Error).message).toMatch(
      /^queue "no-such-service\.orders\.dlq" does not exist in vhost "shop_test_\w+"$/,
    );
  });

  test('when RabbitMQ is unreachable, the tools fail with a clear message', async () => {
    // Act
    const error = await listDeadLetters(UNREACHABLE_URL, queue).catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(ToolError);
    expect((error as Error).message).toMatch(
      /^RabbitMQ is unreachable at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1.*ECONNREFUSED/,
    );
  });
});
