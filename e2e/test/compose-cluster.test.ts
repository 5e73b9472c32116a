import { z } from 'zod';
import { RELAY_DEFAULTS } from '@shop/platform';
import { POOL_BUDGET as notificationPool } from '../../notification-service/src/config';
import { POOL_BUDGET as orderPool } from '../../order-service/src/config';
import { POOL_BUDGET as productPool } from '../../product-service/src/config';
import {
  APP_CONFIGS,
  composeServices,
  environmentOf,
  readRepoFile as read,
  type ComposeService,
} from './support/compose-file';

/**
 * docker-compose.cluster.yml (SPEC §9: a 3-node RabbitMQ cluster, two instances of each service
 * behind one gateway), checked statically as compose.test.ts checks docker-compose.yml. What it
 * must keep of docker-compose.yml is compared with that file, so the two cannot drift apart.
 */
const services = composeServices('docker-compose.cluster.yml');
const single = composeServices('docker-compose.yml');
const envOf = (name: string) => environmentOf(services[name]);

const NODES = ['rabbitmq-1', 'rabbitmq-2', 'rabbitmq-3'];
const REPLICATED = ['product-service', 'order-service', 'notification-service'];
/** A Shop service's instances: `<service>-<n>`, or the service's own name where it runs once. */
const instancesOf = (app: string) =>
  Object.keys(services)
    .filter((name) => name === app || new RegExp(`^${app}-\\d+$`).test(name))
    .sort();
/** The Shop service an instance runs. */
const appOf = (instance: string) => instance.replace(/-\d+$/, '');
const APP_INSTANCES = Object.keys(APP_CONFIGS).flatMap(instancesOf);
const REPLICA_INSTANCES = REPLICATED.flatMap(instancesOf);
/** The keys that list a service's instances, and the service each names. */
const SERVICE_URL_KEYS: Record<string, string> = {
  PRODUCT_SERVICE_URL: 'product-service',
  ORDER_SERVICE_URL: 'order-service',
  NOTIFICATION_SERVICE_URL: 'notification-service',
};
const urlList = (value: string) => value.split(',').map((url) => new URL(url.trim()));
const mountsOf = (name: string) =>
  Object.fromEntries((services[name].volumes ?? []).map((volume) => volume.split(':').slice(0, 2)));

/** What an instance may hold open in Postgres at once, with its defaults (docs/scaling.md). */
const POOL_SIZES: Record<string, number> = {
  'product-service': productPool.size,
  'order-service': orderPool.size,
  'notification-service': notificationPool.size,
};
/** The order service's in-process relay has a pool of its own: its LISTEN and a connection per batch in flight. */
const ORDER_RELAY_POOL = 1 + RELAY_DEFAULTS.pipeline;
/** Postgres's default superuser_reserved_connections, kept free for a superuser to log in and look. */
const SUPERUSER_RESERVED = 3;

describe('docker-compose.cluster.yml', () => {
  test("runs three RabbitMQ nodes, Postgres, Redis, one gateway and two instances of every other service, on docker-compose.yml's images", () => {
    expect(Object.keys(services).sort()).toEqual([
      'gateway',
      'notification-service-1',
      'notification-service-2',
      'order-service-1',
      'order-service-2',
      'postgres',
      'product-service-1',
      'product-service-2',
      'rabbitmq-1',
      'rabbitmq-2',
      'rabbitmq-3',
      'redis',
    ]);
    for (const node of NODES) expect(services[node].image).toBe(single.rabbitmq.image);
    expect(services.postgres.image).toBe(single.postgres.image);
    expect(services.redis).toEqual(single.redis);
  });

  test("publishes only the public ports: the gateway's 3000 and one node's management UI on 15672", () => {
    const published = Object.entries(services)
      .filter(([, service]) => service.ports)
      .map(([name, service]) => ({ name, ports: service.ports }))
      .sort((a, b) => a.name.localeCompare(b.name));

    expect(published).toEqual([
      { name: 'gateway', ports: ['3000:3000'] },
      { name: 'rabbitmq-1', ports: ['15672:15672'] },
    ]);
  });

  test.each(Object.keys(services))('%s has a healthcheck', (name) => {
    const test = services[name].healthcheck?.test;
    expect(Array.isArray(test) ? test.length : (test ?? '').length).toBeGreaterThan(0);
  });

  test('every dependency waits for service_healthy, on a service that has a healthcheck', () => {
    const edges = Object.entries(services).flatMap(([name, service]) =>
      Object.entries(service.depends_on ?? {}).map(([dependency, { condition }]) => ({
        name,
        dependency,
        condition,
      })),
    );
    expect(edges.length).toBeGreaterThan(0);
    for (const { dependency, condition } of edges) {
      expect(condition).toBe('service_healthy');
      expect(services[dependency]?.healthcheck).toBeDefined();
    }
  });

  test('the three nodes share one Erlang cookie, and each is named by a stable hostname of its own', () => {
    const cookies = NODES.map((node) => envOf(node).RABBITMQ_ERLANG_COOKIE);

    expect(new Set(cookies).size).toBe(1);
    expect(cookies[0]).not.toBe('');
    expect(NODES.map((node) => services[node].hostname)).toEqual(NODES);
  });

  test('the nodes form one cluster by classic-config peer discovery of the same three node names', () => {
    for (const node of NODES)
      expect(mountsOf(node)['./rabbitmq/cluster.conf']).toMatch(/^\/etc\/rabbitmq\/conf\.d\/[\w-]+\.conf$/);
    const conf = read('rabbitmq/cluster.conf');
    const listed = [...conf.matchAll(/^cluster_formation\.classic_config\.nodes\.\d+ = (\S+)$/gm)].map(
      (match) => match[1],
    );

    expect(conf).toMatch(/^cluster_formation\.peer_discovery_backend = classic_config$/m);
    expect(listed.sort()).toEqual(NODES.map((node) => `rabbit@${services[node].hostname}`));
    expect(conf).toMatch(/^loopback_users\.guest = false$/m);
  });

  test('the queues are declared only once all three nodes run, so every quorum queue has a replica on each', () => {
    // No node preloads definitions (one booting alone would declare the queues on itself only) ...
    for (const node of NODES)
      expect(Object.keys(mountsOf(node))).not.toContain('./rabbitmq/definitions.json');
    expect(read('rabbitmq/cluster.conf')).not.toMatch(/^\s*(management\.)?load_definitions/m);
    // ... a node is healthy only when it sees all three running, so the nodes start together ...
    for (const node of NODES) {
      expect((services[node].healthcheck?.test as string[]).join(' ')).toContain(
        `await_online_nodes ${NODES.length}`,
      );
      expect(services[node].depends_on).toBeUndefined();
    }
    // ... and the services, which declare the topology, wait for every node to be healthy.
    for (const instance of REPLICA_INSTANCES)
      expect(Object.keys(services[instance].depends_on ?? {})).toEqual(expect.arrayContaining(NODES));
  });

  test.each(APP_INSTANCES)(
    '%s is built, checked and stopped as its service is in docker-compose.yml',
    (instance) => {
      const shape = ({ build, image, init, healthcheck, stop_grace_period }: ComposeService) => ({
        build,
        image,
        init,
        healthcheck,
        stop_grace_period,
      });
      expect(shape(services[instance])).toEqual(shape(single[appOf(instance)]));
    },
  );

  test.each(APP_INSTANCES)(
    "%s gets its service's environment in docker-compose.yml, but for the broker list and the lists of instances",
    (instance) => {
      const lists = ['AMQP_URL', ...Object.keys(SERVICE_URL_KEYS)];
      const rest = (environment: Record<string, string> = {}) =>
        Object.fromEntries(
          Object.entries(environment).map(([key, value]) => [key, lists.includes(key) ? 'a list' : value]),
        );
      expect(rest(services[instance].environment)).toEqual(rest(single[appOf(instance)].environment));
    },
  );

  test.each(APP_INSTANCES)(
    '%s gets only variables its config schema knows, and values it accepts',
    (instance) => {
      const env = envOf(instance);
      const shape = APP_CONFIGS[appOf(instance)];
      expect(Object.keys(env).filter((key) => !(key in shape))).toEqual([]);
      expect(z.object(shape).safeParse(env).error?.issues ?? []).toEqual([]);
    },
  );

  test.each(REPLICA_INSTANCES)('%s lists the three nodes in its AMQP_URL', (instance) => {
    const urls = urlList(envOf(instance).AMQP_URL);
    expect(urls.map((url) => `${url.protocol}//${url.host}`)).toEqual(
      NODES.map((node) => `amqp://${node}:5672`),
    );
  });

  test.each(APP_INSTANCES)(
    '%s lists every instance of each service it calls, on the port that instance listens on',
    (instance) => {
      const env = envOf(instance);
      for (const [key, app] of Object.entries(SERVICE_URL_KEYS).filter(([key]) => env[key])) {
        const urls = urlList(env[key]);
        expect({ key, hosts: urls.map((url) => url.hostname).sort() }).toEqual({
          key,
          hosts: instancesOf(app),
        });
        for (const url of urls)
          expect({ key, host: url.hostname, port: url.port }).toEqual({
            key,
            host: url.hostname,
            port: envOf(url.hostname).PORT,
          });
      }
    },
  );

  test.each(APP_INSTANCES)(
    '%s starts after the database, every node, Redis and every instance it is configured to use',
    (instance) => {
      const env = envOf(instance);
      const hostsOf = (value: string | undefined) => (value ? urlList(value).map((url) => url.hostname) : []);
      const needs = [
        env.DATABASE_URL,
        env.AMQP_URL,
        env.REDIS_URL,
        ...Object.keys(SERVICE_URL_KEYS).map((key) => env[key]),
      ].flatMap(hostsOf);
      expect(needs.length).toBeGreaterThan(0);
      expect(Object.keys(services[instance].depends_on ?? {})).toEqual(expect.arrayContaining(needs));
    },
  );

  test.each(REPLICATED)(
    "%s's instances share its database, and each starts once the one before is healthy: the first applies the migrations, the next find them applied",
    (app) => {
      const instances = instancesOf(app);
      expect(instances.length).toBeGreaterThan(1);
      for (const [index, instance] of instances.entries()) {
        expect(envOf(instance).DATABASE_URL).toBe(environmentOf(single[app]).DATABASE_URL);
        if (index > 0)
          expect(services[instance].depends_on?.[instances[index - 1]]).toEqual({
            condition: 'service_healthy',
          });
      }
    },
  );

  test("postgres is docker-compose.yml's (the same init script creates the databases), with max_connections for every pool of every instance at once", () => {
    const command = [services.postgres.command ?? []].flat().join(' ');
    const maxConnections = Number(/max_connections=(\d+)/.exec(command)?.[1] ?? 100);
    const connections = REPLICA_INSTANCES.map((instance) => {
      const env = envOf(instance);
      const pool = Number(env.DATABASE_POOL_SIZE ?? POOL_SIZES[appOf(instance)]);
      const relay =
        appOf(instance) === 'order-service' && env.RELAY_ENABLED !== 'false' ? ORDER_RELAY_POOL : 0;
      return pool + relay;
    }).reduce((sum, count) => sum + count, 0);

    expect({ volumes: services.postgres.volumes, environment: services.postgres.environment }).toEqual({
      volumes: single.postgres.volumes,
      environment: single.postgres.environment,
    });
    expect(connections).toBeLessThanOrEqual(maxConnections - SUPERUSER_RESERVED);
  });
});
