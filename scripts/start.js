#!/usr/bin/env node
/**
 * `npm start`: build, check Postgres and RabbitMQ, migrate each service's database, seed the
 * catalogue, then run the four services as one process tree with prefixed logs. Ctrl-C (or
 * SIGTERM) stops them all gracefully.
 *
 * Flags: --no-build (skip the turbo build), --no-seed.
 */
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const { ensureDependencies } = require('./lib/dependencies');

const root = path.resolve(__dirname, '..');
const args = new Set(process.argv.slice(2));
const SERVICES = [
  { name: 'product', dir: 'product-service', color: 36, envPrefix: 'PRODUCT', database: 'shop_products' },
  { name: 'order', dir: 'order-service', color: 33, envPrefix: 'ORDER', database: 'shop_orders' },
  { name: 'notify', dir: 'notification-service', color: 35, envPrefix: 'NOTIFICATION', database: 'shop_notifications' },
  { name: 'gateway', dir: 'gateway', color: 32, envPrefix: 'GATEWAY' },
];

/**
 * The services share one environment here, so settings that differ per service are taken from
 * prefixed names (PRODUCT_DATABASE_URL, ORDER_PORT, …); unprefixed PORT and DATABASE_URL would
 * otherwise reach all four. DATABASE_URL, if set, names the server: each service gets its own
 * database on it.
 */
function serviceEnv(service) {
  const env = { ...process.env };
  delete env.PORT;
  delete env.DATABASE_URL;
  const own = (key) => process.env[`${service.envPrefix}_${key}`];
  if (own('PORT')) env.PORT = own('PORT');
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

  const children = SERVICES.map((service) => {
    const child = spawn('node', [path.join(service.dir, 'dist/src/main.js')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: serviceEnv(service),
    });
    prefixLines(child.stdout, service.name, service.color, process.stdout);
    prefixLines(child.stderr, service.name, service.color, process.stderr);
    child.on('exit', (code, signal) => {
      say(`${service.dir} exited (${signal ?? code})`);
      if (!stopping) stopAll(1);
    });
    return child;
  });
  say('gateway on http://localhost:3000 — try: curl localhost:3000/api/v1/products');
  say(`gateway metrics (internal) on http://localhost:${process.env.METRICS_PORT || 9400}/metrics`);

  let stopping = false;
  function stopAll(exitCode) {
    if (stopping) return;
    stopping = true;
    say('stopping services…');
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    const deadline = setTimeout(() => process.exit(exitCode || 1), 12_000);
    Promise.all(children.map((child) => (child.exitCode !== null ? null : new Promise((r) => child.once('exit', r))))).then(() => {
      clearTimeout(deadline);
      process.exit(exitCode);
    });
  }
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
}

main();
