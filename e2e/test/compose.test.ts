import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseConfig } from '@shop/platform';
import {
  APP_CONFIGS,
  composeServices,
  environmentOf,
  readRepoFile as read,
  ROOT,
} from './support/compose-file';

/**
 * No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked statically:
 * the shape users rely on (services, ports, healthchecks, start order) and that every variable
 * handed to a service is one its zod config knows and accepts.
 */
const services = composeServices('docker-compose.yml');
const APP_SERVICES = Object.keys(APP_CONFIGS);
const envOf = (name: string) => environmentOf(services[name]);

describe('docker-compose.yml', () => {
  test('runs postgres 16, rabbitmq 3.13 with the management UI, redis 7 and the four services', () => {
    expect(Object.keys(services).sort()).toEqual([
      'gateway',
      'notification-service',
      'order-service',
      'postgres',
      'product-service',
      'rabbitmq',
      'redis',
    ]);
    expect(services.postgres.image).toBe('postgres:16');
    expect(services.rabbitmq.image).toBe('rabbitmq:3.13-management');
    expect(services.redis.image).toBe('redis:7-alpine');
  });

  test('keeps the rate limits in redis, which writes nothing to disk and is not published', () => {
    expect(envOf('gateway').REDIS_URL).toBe('redis://redis:6379');
    expect(services.redis.command).toEqual(['redis-server', '--save', '', '--appendonly', 'no']);
    expect(services.redis.ports).toBeUndefined();
  });

  test('publishes the gateway on 3000 and AMQP on 5672 with the management UI on 15672', () => {
    expect(services.gateway.ports).toContain('3000:3000');
    expect(services.rabbitmq.ports).toEqual(expect.arrayContaining(['5672:5672', '15672:15672']));
  });

  test('gives every service a stop grace period longer than its SHUTDOWN_TIMEOUT_MS, so a slow drain is not cut by SIGKILL', () => {
    for (const name of APP_SERVICES) {
      const graceSeconds = Number(/^(\d+)s$/.exec(String(services[name].stop_grace_period))?.[1]);
      const shutdownMs = Number(envOf(name).SHUTDOWN_TIMEOUT_MS ?? 10_000);
      expect({ name, longer: graceSeconds * 1000 > shutdownMs }).toEqual({ name, longer: true });
    }
  });

  test('builds every service from the one Dockerfile with its own SERVICE build arg', () => {
    for (const name of APP_SERVICES) {
      expect(services[name].build).toEqual({ context: '.', args: { SERVICE: name } });
      expect(existsSync(join(ROOT, name, 'package.json'))).toBe(true);
    }
  });

  test.each(Object.keys(services))('%s has a healthcheck', (name) => {
    const test = services[name].healthcheck?.test;
    expect(Array.isArray(test) ? test.length : (test ?? '').length).toBeGreaterThan(0);
  });

  test.each(APP_SERVICES)(
    '%s checks its own /health on its own PORT with node (the image has no curl)',
    (name) => {
      const test = services[name].healthcheck?.test as string[];
      const port = envOf(name).PORT;
      expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
      expect(test[3]).toContain(`fetch('http://127.0.0.1:${port}/health')`);
      expect(test[3]).toMatch(/process\.exit\(r\.ok \? 0 : 1\)/);
    },
  );

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

  test.each(APP_SERVICES)(
    '%s starts after the database, broker and services it is configured to use',
    (name) => {
      const env = envOf(name);
      const needs = new Set<string>();
      if (env.DATABASE_URL) needs.add('postgres');
      if (env.AMQP_URL) needs.add('rabbitmq');
      if (env.REDIS_URL) needs.add('redis');
      for (const key of ['PRODUCT_SERVICE_URL', 'ORDER_SERVICE_URL', 'NOTIFICATION_SERVICE_URL']) {
        if (env[key]) needs.add(new URL(env[key]).hostname);
      }
      expect(needs.size).toBeGreaterThan(0);
      expect(Object.keys(services[name].depends_on ?? {}).sort()).toEqual(
        expect.arrayContaining([...needs].sort()),
      );
    },
  );

  test.each(APP_SERVICES)('%s gets only variables its config schema knows, and values it accepts', (name) => {
    const env = envOf(name);
    const known = Object.keys(APP_CONFIGS[name]);
    expect(Object.keys(env).filter((key) => !known.includes(key))).toEqual([]);
    const parsed = z.object(APP_CONFIGS[name]).safeParse(env);
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  test.each(APP_SERVICES)(
    '%s reaches its peers by compose service name on the port they listen on',
    (name) => {
      const env = envOf(name);
      for (const [key, value] of Object.entries(env).filter(([key]) => key.endsWith('_SERVICE_URL'))) {
        const url = new URL(value);
        expect({ key, host: url.hostname, port: url.port }).toEqual({
          key,
          host: url.hostname,
          port: envOf(url.hostname).PORT,
        });
      }
      if (env.AMQP_URL) expect(new URL(env.AMQP_URL).host).toBe('rabbitmq:5672');
      if (env.DATABASE_URL) expect(new URL(env.DATABASE_URL).host).toBe('postgres:5432');
      if (env.REDIS_URL) expect(new URL(env.REDIS_URL).host).toBe('redis:6379');
    },
  );

  test.each(APP_SERVICES)(
    '%s has no fallback JWT_SECRET: as the image runs it (production), an unset one stops start-up and a long one from the shell is used',
    (name) => {
      const runtimeEnv = { NODE_ENV: /^ENV NODE_ENV=(\w+)/m.exec(read('Dockerfile'))?.[1] ?? '' };
      const secret = 'a-random-production-secret-of-48-characters-xyz0';
      const withShell = (shell: Record<string, string>) =>
        Object.fromEntries(
          Object.entries(services[name].environment ?? {}).map(([key, value]) => [
            key,
            String(value).replace(
              /\$\{([A-Z_]+):-([^}]*)\}/g,
              (_match, variable: string, fallback: string) => shell[variable] || fallback,
            ),
          ]),
        );

      expect(runtimeEnv.NODE_ENV).toBe('production');
      expect(withShell({}).JWT_SECRET).toBe('');
      expect(() => parseConfig(APP_CONFIGS[name], { ...withShell({}), ...runtimeEnv })).toThrow(/JWT_SECRET/);
      expect(
        parseConfig(APP_CONFIGS[name], { ...withShell({ JWT_SECRET: secret }), ...runtimeEnv }).JWT_SECRET,
      ).toBe(secret);
    },
  );

  test('the postgres init script creates every database the services are given', () => {
    const initScript = services.postgres.volumes?.find((volume) =>
      volume.includes('/docker-entrypoint-initdb.d/'),
    );
    expect(initScript).toBeDefined();
    const sql = read(initScript!.split(':')[0]);
    for (const name of APP_SERVICES) {
      const url = envOf(name).DATABASE_URL;
      if (url) expect(sql).toContain(`CREATE DATABASE ${new URL(url).pathname.slice(1)};`);
    }
  });

  test('rabbitmq preloads the exported definitions through its config file', () => {
    const mounts = Object.fromEntries(
      (services.rabbitmq.volumes ?? []).map((volume) => volume.split(':').slice(0, 2)),
    );
    expect(mounts['./rabbitmq/definitions.json']).toBe('/etc/rabbitmq/definitions.json');
    expect(mounts['./rabbitmq/rabbitmq.conf']).toMatch(
      /^\/etc\/rabbitmq\/(rabbitmq\.conf|conf\.d\/[\w-]+\.conf)$/,
    );
    const conf = read('rabbitmq/rabbitmq.conf');
    expect(conf).toMatch(/^load_definitions = \/etc\/rabbitmq\/definitions\.json$/m);
    expect(conf).toMatch(/^loopback_users\.guest = false$/m);
    expect(existsSync(join(ROOT, 'rabbitmq', 'definitions.json'))).toBe(true);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const entrypoint = read('docker/entrypoint.sh');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages[stages.length - 1];

  test('never runs `prisma migrate dev` (nor `migrate reset`)', () => {
    const commands = (text: string) =>
      text
        .split('\n')
        .filter((line) => !/^\s*#/.test(line))
        .join('\n');
    for (const text of [dockerfile, entrypoint]) {
      expect(commands(text)).not.toMatch(/migrate\s+(dev|reset)/);
    }
  });

  test('is parameterised by SERVICE and builds with npm ci and turbo', () => {
    expect(dockerfile).toMatch(/^ARG SERVICE$/m);
    expect(stages[0]).toMatch(/RUN npm ci\b/);
    expect(stages[0]).toMatch(/turbo run build --filter="@shop\/\$\{SERVICE\}"/);
  });

  test('runs on node:24-slim (the current LTS) with production dependencies only, compiled code and the migrations', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-slim$/m);
    expect(runtime).toMatch(/^\$\{NODE_IMAGE\} AS runtime/);
    expect(stages.some((stage) => /npm ci --omit=dev/.test(stage))).toBe(true);
    expect(runtime).toContain('/app/${SERVICE}/dist/src');
    expect(runtime).toContain('/app/${SERVICE}/prisma/migrations');
    expect(runtime).not.toMatch(/COPY (--\S+ )*\. /);
    expect(runtime).toMatch(/^USER node$/m);
  });

  test('ships the generated OpenAPI document next to the contracts package, where the gateway reads it', () => {
    expect(runtime).toContain('COPY --from=build --chown=node:node /app/contracts/openapi.json ./contracts/');
  });

  test('its entrypoint migrates with the project migrator before it execs the service', () => {
    const migrate = entrypoint.indexOf('node "$SERVICE/dist/src/migrate.js"');
    const start = entrypoint.indexOf('exec node "$SERVICE/dist/src/main.js"');
    expect(migrate).toBeGreaterThan(-1);
    expect(start).toBeGreaterThan(migrate);
    expect(entrypoint).toMatch(/^set -eu$/m);
  });
});
