import { CLOUDEVENTS_CONTENT_TYPE, EVENT_DATA, EVENT_TYPES, EventEnvelope, dataschemaOf, type EventType } from '../src/events';
import { EXCHANGES, INTEGRATION_QUEUES, ROUTES, deadLetterQueueOf } from '../src/topology';
import { EVENT_EXAMPLES } from './examples';
import { jsonSchemaOf, type JsonSchema } from './json-schema';
import { API_VERSION } from './openapi/document';

/**
 * The AsyncAPI 3.0 document of the events (SPEC §5), generated from the same contracts as the
 * REST API: one channel per exchange + routing key (what producers publish to), one per queue
 * (what consumers read), one message per event type with its CloudEvents envelope and payload.
 * Payloads are the input side of their zod schemas — what a consumer accepts: unknown members
 * are ignored, so additive changes stay compatible. Schemas use the JSON Schema draft-07
 * vocabulary that AsyncAPI's default schema format is built on.
 */
const AMQP_BINDING_VERSION = '0.3.0';
const VHOST = '/';

const PRODUCER_OF_EXCHANGE: Record<string, string> = {
  [EXCHANGES.orders]: 'order-service',
  [EXCHANGES.inventory]: 'product-service',
};

/** AMQP topic matching: `*` is one word, `#` zero or more. */
export function topicMatches(pattern: string, routingKey: string): boolean {
  const match = (p: string[], k: string[]): boolean => {
    if (p.length === 0) return k.length === 0;
    const [head, ...rest] = p;
    if (head === '#') return match(rest, k) || (k.length > 0 && match(p, k.slice(1)));
    return k.length > 0 && (head === '*' || head === k[0]) && match(rest, k.slice(1));
  };
  return match(pattern.split('.'), routingKey.split('.'));
}

export const eventChannelId = (type: EventType) => `${ROUTES[type].exchange}.${ROUTES[type].routingKey}`;
const queueChannelId = (queue: string) => queue;
const pointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');
const messageRef = (type: EventType) => ({ $ref: `#/components/messages/${type}` });

/** The payload schema of one event type, as documented and as snapshotted by the contract test. */
export const eventDataJsonSchema = (type: EventType, target: 'draft-2020-12' | 'draft-7' = 'draft-2020-12'): JsonSchema =>
  jsonSchemaOf(EVENT_DATA[type], 'input', target);

const eventSchemaOf = (type: EventType): JsonSchema => ({
  description: `A CloudEvents 1.0 envelope carrying ${type} (dataschema ${dataschemaOf(type)}).`,
  allOf: [
    { $ref: '#/components/schemas/CloudEventEnvelope' },
    {
      type: 'object',
      properties: {
        type: { const: type },
        dataschema: { const: dataschemaOf(type) },
        data: { $ref: `#/components/schemas/${type}Data` },
      },
    },
  ],
});

function channels(): Record<string, unknown> {
  const eventChannels = EVENT_TYPES.map((type) => {
    const { exchange, routingKey } = ROUTES[type];
    return [
      eventChannelId(type),
      {
        address: routingKey,
        title: `${exchange} / ${routingKey}`,
        description: `${type} events, published to the \`${exchange}\` topic exchange with routing key \`${routingKey}\`.`,
        messages: { [type]: messageRef(type) },
        bindings: {
          amqp: {
            is: 'routingKey',
            exchange: { name: exchange, type: 'topic', durable: true, autoDelete: false, vhost: VHOST },
            bindingVersion: AMQP_BINDING_VERSION,
          },
        },
      },
    ] as const;
  });
  const queueChannels = INTEGRATION_QUEUES.map((queue) => [
    queueChannelId(queue.name),
    {
      address: queue.name,
      title: queue.name,
      description:
        `Quorum queue bound to ${queue.bindings.map((binding) => `\`${binding.exchange}\`: \`${binding.routingKey}\``).join(', ')}. ` +
        `Messages that keep failing are dead-lettered through exchange \`${EXCHANGES.deadLetter}\` to \`${deadLetterQueueOf(queue.name)}\`.`,
      messages: Object.fromEntries(messagesOfQueue(queue.bindings).map((type) => [type, messageRef(type)])),
      bindings: {
        amqp: {
          is: 'queue',
          queue: { name: queue.name, durable: true, exclusive: false, autoDelete: false, vhost: VHOST },
          bindingVersion: AMQP_BINDING_VERSION,
        },
      },
      'x-queue-type': 'quorum',
      'x-bindings': queue.bindings,
      'x-dead-letter-exchange': EXCHANGES.deadLetter,
      'x-dead-letter-queue': deadLetterQueueOf(queue.name),
    },
  ]);
  return Object.fromEntries([...eventChannels, ...queueChannels]);
}

/** The event types a queue receives through its bindings. */
export const messagesOfQueue = (bindings: readonly { exchange: string; routingKey: string }[]): EventType[] =>
  EVENT_TYPES.filter((type) =>
    bindings.some((binding) => binding.exchange === ROUTES[type].exchange && topicMatches(binding.routingKey, ROUTES[type].routingKey)),
  );

function operations(): Record<string, unknown> {
  const sends = EVENT_TYPES.map((type) => {
    const producer = PRODUCER_OF_EXCHANGE[ROUTES[type].exchange];
    const channel = eventChannelId(type);
    return [
      `publish${type}`,
      {
        action: 'send',
        channel: { $ref: `#/channels/${pointer(channel)}` },
        title: `${producer} publishes ${type}`,
        summary: `Written to ${producer}'s outbox in the transaction of the change; its relay publishes it with publisher confirms.`,
        messages: [{ $ref: `#/channels/${pointer(channel)}/messages/${type}` }],
        bindings: { amqp: { deliveryMode: 2, timestamp: true, bindingVersion: AMQP_BINDING_VERSION } },
        'x-sender': producer,
      },
    ] as const;
  });
  const receives = INTEGRATION_QUEUES.map((queue) => {
    const consumer = queue.name.split('.')[0];
    const channel = queueChannelId(queue.name);
    return [
      `consume${queue.name.replace(/(^|[.-])(\w)/g, (_all, _sep: string, letter: string) => letter.toUpperCase())}`,
      {
        action: 'receive',
        channel: { $ref: `#/channels/${pointer(channel)}` },
        title: `${consumer} consumes ${queue.name}`,
        summary: 'At-least-once delivery; the consumer records each event id in its inbox with its effect and acks after commit.',
        messages: messagesOfQueue(queue.bindings).map((type) => ({ $ref: `#/channels/${pointer(channel)}/messages/${type}` })),
        bindings: { amqp: { ack: true, bindingVersion: AMQP_BINDING_VERSION } },
        'x-receiver': consumer,
      },
    ] as const;
  });
  return Object.fromEntries([...sends, ...receives]);
}

function messages(): Record<string, unknown> {
  return Object.fromEntries(
    EVENT_TYPES.map((type) => {
      const { exchange, routingKey } = ROUTES[type];
      const example = EVENT_EXAMPLES[type];
      return [
        type,
        {
          name: type,
          title: type,
          summary: `${type} (${dataschemaOf(type)}), published by ${PRODUCER_OF_EXCHANGE[exchange]} to ${exchange} with routing key ${routingKey}.`,
          contentType: CLOUDEVENTS_CONTENT_TYPE,
          headers: {
            type: 'object',
            description: 'AMQP message headers (the AMQP properties carry messageId = id, type = type, persistent, contentType, timestamp).',
            properties: { traceparent: { type: 'string', description: 'W3C trace context, as in the envelope.' } },
          },
          payload: { $ref: `#/components/schemas/${type}Event` },
          correlationId: { description: 'The request that started the flow.', location: '$message.payload#/correlationid' },
          bindings: { amqp: { messageType: type, bindingVersion: AMQP_BINDING_VERSION } },
          examples: [
            {
              name: `${type}Example`,
              summary: `The seed scenario's order: ${type}.`,
              headers: { traceparent: example.traceparent },
              payload: example,
            },
          ],
        },
      ];
    }),
  );
}

function schemas(): Record<string, JsonSchema> {
  return {
    CloudEventEnvelope: {
      description: 'CloudEvents 1.0 structured JSON; `data` is checked against the schema named by `type` and `dataschema`.',
      ...jsonSchemaOf(EventEnvelope, 'input', 'draft-7'),
    },
    ...Object.fromEntries(EVENT_TYPES.map((type) => [`${type}Data`, eventDataJsonSchema(type, 'draft-7')])),
    ...Object.fromEntries(EVENT_TYPES.map((type) => [`${type}Event`, eventSchemaOf(type)])),
  };
}

/** Builds the whole AsyncAPI 3.0 document; deterministic, so the checked-in copy can be compared. */
export function buildAsyncApiDocument(): Record<string, unknown> {
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Shop events',
      version: API_VERSION,
      description:
        'Integration events of Shop over RabbitMQ: CloudEvents 1.0 envelopes (structured JSON) on two durable topic ' +
        'exchanges, `orders` and `inventory`. Payloads only ever grow; a breaking change is a new `dataschema` version ' +
        '(`urn:shop:events:<Type>:<version>`). To subscribe your own consumer, bind a new queue to either exchange.',
      license: { name: 'MIT' },
    },
    defaultContentType: CLOUDEVENTS_CONTENT_TYPE,
    servers: {
      local: {
        host: 'localhost:5672',
        protocol: 'amqp',
        protocolVersion: '0.9.1',
        description: 'RabbitMQ locally (guest/guest); management UI on http://localhost:15672.',
        security: [{ $ref: '#/components/securitySchemes/userPassword' }],
      },
    },
    channels: channels(),
    operations: operations(),
    components: {
      schemas: schemas(),
      messages: messages(),
      securitySchemes: { userPassword: { type: 'userPassword', description: 'RabbitMQ user and password (AMQP_URL).' } },
    },
  };
}
