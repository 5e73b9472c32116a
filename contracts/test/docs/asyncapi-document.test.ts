import { parse } from 'yaml';
import { CLOUDEVENTS_CONTENT_TYPE, EVENT_TYPES, INTEGRATION_QUEUES, QUEUES, ROUTES, dataschemaOf, parseEvent } from '../../src';
import { buildAsyncApiDocument, messagesOfQueue, renderAsyncApiYaml, topicMatches } from '../../tools';
import { refsIn, resolvePointer, unresolvedRefs } from '../support/json-refs';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const document = buildAsyncApiDocument() as Json;
const deref = (node: Json): Json => (node?.$ref ? deref(resolvePointer(document, node.$ref) as Json) : node);
const channelOf = (operation: Json) => deref(operation.channel);

describe('the AsyncAPI document', () => {
  it('is AsyncAPI 3.0.0 with CloudEvents as the default content type', () => {
    expect(document.asyncapi).toBe('3.0.0');
    expect(document.defaultContentType).toBe(CLOUDEVENTS_CONTENT_TYPE);
    expect(document.servers.local).toMatchObject({ host: 'localhost:5672', protocol: 'amqp' });
  });

  it('reads back from its YAML form unchanged', () => {
    expect(parse(renderAsyncApiYaml())).toEqual(document);
  });

  it('resolves every $ref, so every message an operation or channel names exists', () => {
    expect(refsIn(document).length).toBeGreaterThan(40);
    expect(unresolvedRefs(document)).toEqual([]);
  });

  it('has one channel per exchange and routing key, on a durable topic exchange', () => {
    for (const type of EVENT_TYPES) {
      const channel = Object.values(document.channels as Json).find(
        (candidate) => candidate.bindings.amqp.is === 'routingKey' && candidate.messages[type],
      );
      expect(channel).toMatchObject({
        address: ROUTES[type].routingKey,
        bindings: { amqp: { exchange: { name: ROUTES[type].exchange, type: 'topic', durable: true } } },
      });
    }
  });

  it('has one channel per queue, carrying the messages its bindings route to it', () => {
    const queueChannels = Object.values(document.channels as Json).filter((channel) => channel.bindings.amqp.is === 'queue');

    expect(queueChannels.map((channel) => channel.address).sort()).toEqual(INTEGRATION_QUEUES.map((queue) => queue.name).sort());
    expect(Object.keys(document.channels['product-service.orders'].messages)).toEqual(['OrderCreated', 'OrderStatusUpdated']);
    expect(Object.keys(document.channels['notification-service.events'].messages)).toEqual(EVENT_TYPES);
    expect(document.channels['order-service.inventory'].bindings.amqp.queue).toMatchObject({ durable: true, exclusive: false });
  });

  it('sends each event from its producer and receives it on every queue bound to it', () => {
    const operations = Object.values(document.operations as Json);
    for (const type of EVENT_TYPES) {
      const sends = operations.filter((operation) => operation.action === 'send' && channelOf(operation).messages[type]);
      const producer = ROUTES[type].exchange === 'orders' ? 'order-service' : 'product-service';
      expect([type, sends.map((operation) => operation['x-sender'])]).toEqual([type, [producer]]);
    }
    const receivers = operations.filter((operation) => operation.action === 'receive').map((operation) => operation['x-receiver']);
    expect(receivers.sort()).toEqual(['notification-service', 'order-service', 'product-service']);
    for (const operation of operations) {
      for (const message of operation.messages) expect(message.$ref.startsWith(`${operation.channel.$ref}/messages/`)).toBe(true);
    }
  });

  it('describes every event type as a CloudEvents message with its envelope, payload and a valid example', () => {
    for (const type of EVENT_TYPES) {
      const message = document.components.messages[type];
      const payload = deref(message.payload);
      const example = message.examples[0].payload;

      expect(message.contentType).toBe(CLOUDEVENTS_CONTENT_TYPE);
      expect(payload.allOf[0]).toEqual({ $ref: '#/components/schemas/CloudEventEnvelope' });
      expect(payload.allOf[1].properties).toMatchObject({ type: { const: type }, dataschema: { const: dataschemaOf(type) } });
      expect(deref(payload.allOf[1].properties.data).properties).toBeDefined();
      expect([type, parseEvent(example)]).toEqual([type, expect.objectContaining({ ok: true, event: expect.objectContaining({ type }) })]);
    }
  });
});

describe('topic routing', () => {
  it.each([
    ['order.#', 'order.created', true],
    ['order.#', 'order', true],
    ['order.*', 'order.status_updated', true],
    ['stock.#', 'order.created', false],
    ['order.*', 'order.a.b', false],
    ['order.created', 'order.created', true],
    ['#', 'anything.at.all', true],
  ])('%s matches %s: %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });

  it('routes each queue the messages SPEC §5 says', () => {
    expect(messagesOfQueue(QUEUES.orderInventory.bindings)).toEqual(['StockReserved', 'StockReservationFailed', 'StockReleased']);
    expect(messagesOfQueue(QUEUES.productOrders.bindings)).toEqual(['OrderCreated', 'OrderStatusUpdated']);
  });
});
