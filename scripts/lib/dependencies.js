/**
 * Is Postgres / RabbitMQ reachable, and if not, what should a newcomer do about it?
 * Shared by `npm start` and `npm run bench`.
 */
const net = require('node:net');
const { spawnSync } = require('node:child_process');

/** Whether `url` answers; for a comma-separated list of brokers (a cluster), whether any of them does. */
async function canConnect(url, timeoutMs = 1500) {
  const urls = url
    .split(',')
    .map((one) => one.trim())
    .filter(Boolean);
  if (urls.length > 1)
    return (await Promise.all(urls.map((one) => canConnect(one, timeoutMs)))).some(Boolean);
  const { hostname, port } = new URL(url);
  const defaultPort = url.startsWith('amqp') ? 5672 : 5432;
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function dockerAnswers() {
  const result = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
  return result.status === 0;
}

const HOW_TO_START = {
  postgres:
    'PostgreSQL is not reachable. Start it (on a Debian machine: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) or set DATABASE_URL, or run `docker compose up -d postgres`.',
  rabbitmq:
    'RabbitMQ is not reachable. Start it (`rabbitmq-server -detached`) or set AMQP_URL, or run `docker compose up -d rabbitmq`.',
};

async function waitFor(url, seconds) {
  for (let i = 0; i < seconds; i += 1) {
    if (await canConnect(url)) return true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
}

/** Resolves when both answer; starts them with Docker Compose if they don't and Docker does; else exits 1. */
async function ensureDependencies({ databaseUrl, amqpUrl, log = console.log }) {
  const missing = [];
  if (!(await canConnect(databaseUrl))) missing.push('postgres');
  if (!(await canConnect(amqpUrl))) missing.push('rabbitmq');
  if (missing.length === 0) return;
  if (dockerAnswers()) {
    log(
      `${missing.join(' and ')} not reachable; starting ${missing.length > 1 ? 'them' : 'it'} with docker compose…`,
    );
    spawnSync('docker', ['compose', 'up', '-d', ...missing], { stdio: 'inherit' });
    const urls = { postgres: databaseUrl, rabbitmq: amqpUrl };
    const stillMissing = [];
    for (const name of missing) if (!(await waitFor(urls[name], 60))) stillMissing.push(name);
    if (stillMissing.length === 0) return;
    missing.splice(0, missing.length, ...stillMissing);
  }
  for (const name of missing) console.error(HOW_TO_START[name]);
  process.exit(1);
}

module.exports = { canConnect, ensureDependencies };
