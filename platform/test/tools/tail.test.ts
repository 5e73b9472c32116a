import { EXCHANGES } from '@shop/contracts';
import { connect } from 'amqplib';
import { formatTailLine, tailExchange, ToolError, type Tail, type TailedMessage } from '../../src/tools';
import { buildOrderCreated, eventually } from '../../src/testing';
import { buildInvalidOrderCreated, createToolsWorld, UNREACHABLE_URL, type ToolsWorld } from './support';

describe('tail tool', () => {
  let world: ToolsWorld;
  const tails: Tail[] = [];

  beforeAll(async () => {
    world = await createToolsWorld();
  });
  afterEach(async () => {
    await Promise.all(tails.splice(0).map((tail) => tail.stop()));
    await world.purgeAll();
  });
  afterAll(async () => {
    await world.teardown();
  });

  const startTail = async (exchange: string, routingKey?: string) => {
    const received: TailedMessage[] = [];
    const tail = await tailExchange(world.vhost.url, exchange, {
      routingKey,
      onMessage: (m) => received.push(m),
    });
    tails.push(tail);
    return { tail, received };
  };

  test('prints an envelope published to the exchange, with a one-line summary', async () => {
    // Arrange
    const { received } = await startTail(EXCHANGES.orders);
    const event = buildOrderCreated();

    // Act
    await world.publish(event);

    // Assert
    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({
      exchange: 'orders',
      routingKey: 'order.created',
      messageId: event.id,
      type: 'OrderCreated',
      invalid: null,
    });
    expect(received[0].body).toEqual(event);
    const line = formatTailLine(received[0]);
    expect(line).toContain(
      `orders/order.created  OrderCreated  id=${event.id}  subject=${event.subject}  correlation=${event.correlationid}`,
    );
  });

  test('only receives what its routing key matches, and flags a message that breaks the contract', async () => {
    // Arrange
    const { received } = await startTail(EXCHANGES.orders, 'order.status_updated');
    const invalid = buildInvalidOrderCreated();

    // Act: the message its key does not match, then one it does, which is also the marker: both
    // go through the one exchange in this order, so once the second is in nothing else came.
    await world.publish(buildOrderCreated());
    await world.publish(invalid, { exchange: EXCHANGES.orders, routingKey: 'order.status_updated' });

    // Assert
    await eventually(() => received.some((message) => message.messageId === invalid.id), {
      description: 'the matching message received',
    });
    expect(received.map((message) => message.messageId)).toEqual([invalid.id]);
    expect(formatTailLine(received[0])).toMatch(/INVALID invalid_data: total_amount: /);
  });

  test('its temporary queue is gone once it stops', async () => {
    // Arrange
    const { tail } = await startTail(EXCHANGES.inventory);

    // Act
    await tail.stop();

    // Assert
    const model = await connect(world.vhost.url);
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    await expect(channel.checkQueue(tail.queue)).rejects.toThrow(/NOT_FOUND/);
    await model.close().catch(() => undefined);
    await expect(tail.ended).resolves.toBeUndefined();
  });

  test('ends with an error when the broker drops the connection', async () => {
    // Arrange
    const { tail } = await startTail(EXCHANGES.orders);

    // Act
    await world.vhost.closeConnections();

    // Assert
    await expect(tail.ended).resolves.toBeInstanceOf(Error);
  });

  test('an unknown exchange fails with a clear message', async () => {
    // Act
    const error = await tailExchange(world.vhost.url, 'no-such-exchange', {
      onMessage: () => undefined,
    }).catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(ToolError);
    expect((error as Error).message).toMatch(
      /^exchange "no-such-exchange" does not exist in vhost "shop_test_\w+"$/,
    );
  });

  test('when RabbitMQ is unreachable, it fails with a clear message', async () => {
    // Act
    const error = await tailExchange(UNREACHABLE_URL, EXCHANGES.orders, { onMessage: () => undefined }).catch(
      (e: unknown) => e,
    );

    // Assert
    expect(error).toBeInstanceOf(ToolError);
    expect((error as Error).message).toMatch(/^RabbitMQ is unreachable at /);
  });
});
