#!/usr/bin/env node
/**
 * `npm start`: build, check Postgres and RabbitMQ, migrate each service's database, seed the
 * catalogue, then run the four services as one process tree with prefixed logs. Ctrl-C (or
 * SIGTERM) stops them all gracefully.
 *
 * Flags: --no-build (skip the turbo build), --no-seed, --replicas N (N instances each of the
 * product, order and notification services behind the one gateway on :3000; see `instancePorts`).
 */
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const { ensureDependencies } = require('./lib/dependencies');

const root = path.resolve(__dirname, '..');
const args = new Set(process.argv.slice(2));
const SERVICES = [
  { name: 'product', dir: 'product-service', color: 36, envPrefix: 'PRODUCT', database: 'shop_products', port: 8001 },
  { name: 'order', dir: 'order-service', color: 33, envPrefix: 'ORDER', database: 'shop_orders', port: 8002 },
  { name: 'notify', dir: 'notification-service', color: 35, envPrefix: 'NOTIFICATION', database: 'shop_notifications', port: 8004 },
  { name: 'gateway', dir: 'gateway', color: 32, envPrefix: 'GATEWAY', port: 3000 },
];
/** Ports of a service's later instances: each 10 above the one before (8001, 8011, 8021, …). */
const REPLICA_PORT_STEP = 10;

function replicasWanted(argv) {
  const at = argv.findIndex((arg) => arg === '--replicas' || arg.startsWith('--replicas='));
  if (at === -1) return 1;
  const value = argv[at].includes('=') ? argv[at].split('=')[1] : argv[at + 1];
  const replicas = Number(value);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 20) {
    console.error(`[start] --replicas takes a whole number from 1 to 20 (got ${value ?? 'nothing'}).`);
    process.exit(1);
  }
  return replicas;
}

/**
 * Every process to run: `replicas` instances of each service but the gateway, which is one. The first
 * instance keeps the service's port (or its PRODUCT_PORT, ORDER_PORT, …); the others count up from it
 * by REPLICA_PORT_STEP, so the three services' ports never meet (8001/8011/…, 8002/8012/…, 8004/8014/…).
 */
function instancePorts(replicas) {
  const instances = SERVICES.flatMap((service) => {
    const first = Number(process.env[`${service.envPrefix}_PORT`] || service.port);
    const count = service.dir === 'gateway' ? 1 : replicas;
    return Array.from({ length: count }, (_, index) => ({ service, index, port: first + index * REPLICA_PORT_STEP }));
  });
  const taken = new Map();
  for (const { service, index, port } of instances) {
    const label = `${service.dir} #${index + 1}`;
    if (taken.has(port)) {
      console.error(`[start] ${label} and ${taken.get(port)} would both listen on :${port}; set other *_PORT values.`);
      process.exit(1);
    }
    taken.set(port, label);
  }
  return instances;
}

/**
 * Where each service's instances are, for the gateway and the order service's product client (a
 * comma-separated list each, SPEC §9); a URL set in the environment is left as it is.
 */
function serviceUrlsOf(instances) {
  const urlsOf = (dir) =>
    instances
      .filter((instance) => instance.service.dir === dir)
      .map(({ port }) => `http://127.0.0.1:${port}`)
      .join(',');
  return {
    PRODUCT_SERVICE_URL: process.env.PRODUCT_SERVICE_URL || urlsOf('product-service'),
    ORDER_SERVICE_URL: process.env.ORDER_SERVICE_URL || urlsOf('order-service'),
    NOTIFICATION_SERVICE_URL: process.env.NOTIFICATION_SERVICE_URL || urlsOf('notification-service'),
  };
}

/**
 * Each instance's pool when N sets of instances share one Postgres with its default
 * max_connections of 100, ~10 left for tools (docs/scaling.md, "Running many instances"); one set
 * keeps each service's own default.
 */
const POOL_SIZES_FOR_SETS = {
  2: { PRODUCT: 13, ORDER: 10, NOTIFICATION: 19 },
  3: { PRODUCT: 9, ORDER: 6, NOTIFICATION: 12 },
};

/**
 * The services share one environment here, so settings that differ per service are taken from
 * prefixed names (PRODUCT_DATABASE_URL, ORDER_PORT, NOTIFICATION_DATABASE_POOL_SIZE, …); unprefixed
 * PORT, DATABASE_URL and DATABASE_POOL_SIZE would otherwise reach all four. DATABASE_URL, if set,
 * names the server: each service gets its own database on it. With replicas, a pool size not set
 * either way is the one that fits N sets into Postgres's connections.
 */
function serviceEnv(service, replicas = 1) {
  const env = { ...process.env };
  delete env.PORT;
  delete env.DATABASE_URL;
  const own = (key) => process.env[`${service.envPrefix}_${key}`];
  if (own('PORT')) env.PORT = own('PORT');
  const fitted = replicas > 1 ? POOL_SIZES_FOR_SETS[Math.min(replicas, 3)][service.envPrefix] : undefined;
  const pool = own('DATABASE_POOL_SIZE') || process.env.DATABASE_POOL_SIZE || fitted;
  if (pool && service.database) env.DATABASE_POOL_SIZE = String(pool);
  if (service.database) {
    if (own('DATABASE_URL')) env.DATABASE_URL = own('DATABASE_URL');
    else if (process.env.DATABASE_URL) {
      const url = new URL(process.env.DATABASE_URL);
      url.pathname = `/${service.database}`;
      env.DATABASE_URL = url.toString();
    }
  }
  return env;
}

const isRunning = (child) => child.exitCode === null && child.signalCode === null;
const say = (line) => console.log(`\x1b[1m[start]\x1b[0m ${line}`);

function runStep(title, command, commandArgs, options = {}) {
  say(title);
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`[start] "${title}" failed (exit ${result.status}).`);
    process.exit(result.status ?? 1);
  }
}

function prefixLines(stream, label, color, target) {
  let pending = '';
  stream.on('data', (chunk) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) target.write(`\x1b[${color}m${label.padEnd(8)}|\x1b[0m ${line}\n`);
  });
}

async function main() {
  const replicas = replicasWanted(process.argv.slice(2));
  const instances = instancePorts(replicas);
  const urls = serviceUrlsOf(instances);
  await ensureDependencies({
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    amqpUrl: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  });
  if (!args.has('--no-build')) runStep('building (turbo run build)', 'npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
  for (const service of SERVICES.filter((s) => s.dir !== 'gateway')) {
    runStep(`migrating ${service.dir}`, 'node', [path.join(service.dir, 'dist/src/migrate.js')], {
      env: serviceEnv(service),
    });
  }
  if (!args.has('--no-seed')) {
    runStep('seeding products', 'node', ['product-service/dist/src/seed.js'], { env: serviceEnv(SERVICES[0]) });
  }

  const running = instances.map(({ service, index, port }) => {
    const several = replicas > 1 && service.dir !== 'gateway';
    const label = several ? `${service.name}${index + 1}` : service.name;
    const title = several ? `${service.dir} #${index + 1}` : service.dir;
    const child = spawn('node', [path.join(service.dir, 'dist/src/main.js')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...serviceEnv(service, replicas), ...urls, PORT: String(port) },
    });
    prefixLines(child.stdout, label, service.color, process.stdout);
    prefixLines(child.stderr, label, service.color, process.stderr);
    const instance = { service, title, port, child };
    child.on('exit', (code, signal) => {
      say(`${title} (:${port}, pid ${child.pid}) exited (${signal ?? code})`);
      if (stopping) return;
      // With replicas, the others go on serving (the gateway stops sending to it); the last one's end ends all.
      const others = running.filter((other) => other.service === service && isRunning(other.child));
      if (others.length > 0) say(`${others.length} other instance(s) of ${service.dir} still serving`);
      else stopAll(1);
    });
    return instance;
  });
  const children = running.map(({ child }) => child);
  for (const { title, port, child } of running) say(`${title} on :${port} (pid ${child.pid})`);
  if (replicas > 1) for (const [key, value] of Object.entries(urls)) say(`gateway's ${key}=${value}`);
  if (replicas > 1) {
    const pools = SERVICES.filter((s) => s.database).map((s) => `${s.dir} ${serviceEnv(s, replicas).DATABASE_POOL_SIZE}`);
    say(`database pool per instance: ${pools.join(', ')} (docs/scaling.md)`);
  }
  if (replicas > 3 && !process.env.DATABASE_POOL_SIZE)
    say(`${replicas} sets of instances need more than Postgres's default max_connections (100): raise it or set *_DATABASE_POOL_SIZE (docs/scaling.md)`);
  const gatewayPort = running.find(({ service }) => service.dir === 'gateway').port;
  say(`gateway on http://localhost:${gatewayPort} — try: curl localhost:${gatewayPort}/api/v1/products`);
  say(`gateway metrics (internal) on http://localhost:${process.env.METRICS_PORT || 9400}/metrics`);

  let stopping = false;
  function stopAll(exitCode) {
    if (stopping) return;
    stopping = true;
    say('stopping services…');
    for (const child of children) if (isRunning(child)) child.kill('SIGTERM');
    const deadline = setTimeout(() => process.exit(exitCode || 1), 12_000);
    // A replica that died of a signal earlier has no exitCode, only a signalCode: it is not waited for.
    Promise.all(children.map((child) => (isRunning(child) ? new Promise((r) => child.once('exit', r)) : null))).then(() => {
      clearTimeout(deadline);
      process.exit(exitCode);
    });
  }
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
}

main();
