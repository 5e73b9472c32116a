import { createHash } from 'node:crypto';
import { QUEUES, type QueueSpec } from '@shop/contracts';
import type { Options } from 'amqplib';
import { declareTopology } from '../messaging/topology';

/**
 * The RabbitMQ definitions file (`rabbitmq/definitions.json`) that docker-compose preloads so the
 * management UI shows the whole topology before any service has started.
 *
 * It is not written by hand: `declareTopology` — the very function every service runs at start —
 * is run against a recording channel, and what it asserted is rendered as definitions. So the
 * file can only differ from what the services declare when it is stale, which a test catches.
 */
export interface RabbitDefinitions {
  rabbit_version: string;
  users: { name: string; password_hash: string; hashing_algorithm: string; tags: string[]; limits: object }[];
  vhosts: { name: string }[];
  permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
  parameters: unknown[];
  global_parameters: unknown[];
  policies: unknown[];
  exchanges: {
    name: string;
    vhost: string;
    type: string;
    durable: boolean;
    auto_delete: boolean;
    internal: boolean;
    arguments: Record<string, unknown>;
  }[];
  queues: {
    name: string;
    vhost: string;
    durable: boolean;
    auto_delete: boolean;
    arguments: Record<string, unknown>;
  }[];
  bindings: {
    source: string;
    vhost: string;
    destination: string;
    destination_type: 'queue';
    routing_key: string;
    arguments: Record<string, unknown>;
  }[];
}

export interface DefinitionsOptions {
  queues?: readonly QueueSpec[];
  vhost?: string;
  /**
   * A definitions file imported at boot replaces the broker's default user, so the local
   * guest/guest account is declared here (docker-compose only; never a production credential).
   */
  user?: { name: string; password: string };
}

/** The broker version the file is written for (the compose image). */
export const DEFINITIONS_RABBIT_VERSION = '3.13';

export async function buildDefinitions(options: DefinitionsOptions = {}): Promise<RabbitDefinitions> {
  const vhost = options.vhost ?? '/';
  const user = options.user ?? { name: 'guest', password: 'guest' };
  const recorded = await recordTopology(options.queues ?? Object.values(QUEUES));
  return {
    rabbit_version: DEFINITIONS_RABBIT_VERSION,
    users: [
      {
        name: user.name,
        password_hash: hashPassword(user.password),
        hashing_algorithm: 'rabbit_password_hashing_sha256',
        tags: ['administrator'],
        limits: {},
      },
    ],
    vhosts: [{ name: vhost }],
    permissions: [{ user: user.name, vhost, configure: '.*', write: '.*', read: '.*' }],
    parameters: [],
    global_parameters: [],
    // declareTopology sets every argument on the queue itself (no policies); kept for the format.
    policies: [],
    exchanges: recorded.exchanges.map(({ name, type, options: o }) => ({
      name,
      vhost,
      type,
      durable: o.durable ?? true,
      auto_delete: o.autoDelete ?? false,
      internal: o.internal ?? false,
      arguments: {
        ...(o.alternateExchange && { 'alternate-exchange': o.alternateExchange }),
        ...(o.arguments ?? {}),
      },
    })),
    queues: recorded.queues.map(({ name, options: o }) => ({
      name,
      vhost,
      durable: o.durable ?? true,
      auto_delete: o.autoDelete ?? false,
      arguments: queueArguments(o),
    })),
    bindings: recorded.bindings.map(({ queue, source, pattern, args }) => ({
      source,
      vhost,
      destination: queue,
      destination_type: 'queue',
      routing_key: pattern,
      arguments: args ?? {},
    })),
  };
}

/** The file's exact text: stable key order and a trailing newline, so a diff means a real change. */
export async function renderDefinitions(options: DefinitionsOptions = {}): Promise<string> {
  return `${JSON.stringify(await buildDefinitions(options), null, 2)}\n`;
}

interface Recorded {
  exchanges: { name: string; type: string; options: Options.AssertExchange }[];
  queues: { name: string; options: Options.AssertQueue }[];
  bindings: { queue: string; source: string; pattern: string; args?: Record<string, unknown> }[];
}

/** Runs the services' own topology declaration against a channel that only writes down the calls. */
async function recordTopology(queues: readonly QueueSpec[]): Promise<Recorded> {
  const recorded: Recorded = { exchanges: [], queues: [], bindings: [] };
  const channel = {
    assertExchange: async (name: string, type: string, options: Options.AssertExchange = {}) => {
      if (!recorded.exchanges.some((e) => e.name === name)) recorded.exchanges.push({ name, type, options });
      return { exchange: name };
    },
    assertQueue: async (name: string = '', options: Options.AssertQueue = {}) => {
      if (!recorded.queues.some((q) => q.name === name)) recorded.queues.push({ name, options });
      return { queue: name, messageCount: 0, consumerCount: 0 };
    },
    bindQueue: async (queue: string, source: string, pattern: string, args?: Record<string, unknown>) => {
      const same = (b: Recorded['bindings'][number]) =>
        b.queue === queue && b.source === source && b.pattern === pattern;
      if (!recorded.bindings.some(same)) recorded.bindings.push({ queue, source, pattern, args });
      return {};
    },
  };
  await declareTopology(channel, queues);
  return recorded;
}

/** amqplib's queue options → the x-arguments the broker stores (what the UI shows). */
function queueArguments(options: Options.AssertQueue): Record<string, unknown> {
  const args: Record<string, unknown> = { ...(options.arguments ?? {}) };
  if (options.messageTtl !== undefined) args['x-message-ttl'] = options.messageTtl;
  if (options.expires !== undefined) args['x-expires'] = options.expires;
  if (options.deadLetterExchange !== undefined) args['x-dead-letter-exchange'] = options.deadLetterExchange;
  if (options.deadLetterRoutingKey !== undefined)
    args['x-dead-letter-routing-key'] = options.deadLetterRoutingKey;
  if (options.maxLength !== undefined) args['x-max-length'] = options.maxLength;
  if (options.maxPriority !== undefined) args['x-max-priority'] = options.maxPriority;
  return Object.fromEntries(Object.entries(args).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ‖ sha256(salt ‖ password)). The salt is
 * fixed so the exported file is reproducible (it only guards the local default account).
 */
function hashPassword(password: string): string {
  const salt = Buffer.from('73686f70', 'hex'); // "shop"
  const digest = createHash('sha256')
    .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
    .digest();
  return Buffer.concat([salt, digest]).toString('base64');
}
