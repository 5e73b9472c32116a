import { QUEUES } from '@shop/contracts';
import { connect, type ChannelModel } from 'amqplib';
import { declareTopology } from '../../src/messaging';
import { createTestVhost, eventually, type TestVhost } from '../../src/testing';

describe('declareTopology', () => {
  let vhost: TestVhost;
  let model: ChannelModel;
  beforeAll(async () => {
    vhost = await createTestVhost();
    model = await connect(vhost.url);
  });
  afterAll(async () => {
    await model.close();
    await vhost.drop();
  });

  test('declaring every queue twice succeeds, and an event reaches every queue bound to its routing key', async () => {
    // Arrange
    const channel = await model.createConfirmChannel();
    const queues = Object.values(QUEUES);

    // Act
    await declareTopology(channel, queues);
    await declareTopology(channel, queues);
    channel.publish('orders', 'order.created', Buffer.from('{}'));
    await channel.waitForConfirms();

    // Assert: the confirms mean the broker has routed the message to every queue it will reach.
    expect((await channel.checkQueue('product-service.orders')).messageCount).toBe(1);
    expect((await channel.checkQueue('notification-service.events')).messageCount).toBe(1);
    expect((await channel.checkQueue('order-service.inventory')).messageCount).toBe(0);
    expect((await channel.checkQueue('product-service.orders.dlq')).messageCount).toBe(0);
    await channel.close();
  });

  test('a message rejected without requeue is dead-lettered to <queue>.dlq', async () => {
    // Arrange
    const channel = await model.createConfirmChannel();
    await declareTopology(channel, [QUEUES.orderInventory]);
    channel.publish('inventory', 'stock.reserved', Buffer.from('{"poison":true}'));
    await channel.waitForConfirms();
    const message = await eventually(() => channel.get('order-service.inventory'));

    // Act
    channel.nack(message, false, false);

    // Assert
    const dead = await eventually(() => channel.get('order-service.inventory.dlq', { noAck: true }));
    expect(dead.content.toString()).toBe('{"poison":true}');
    await channel.close();
  });
});
