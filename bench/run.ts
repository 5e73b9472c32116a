/**
 * `npm run bench [-- --quick] [--no-build] [--log-level=info] [--cpu-prof=order-service,…] [--keep-logs] [--inject-fault] [--cluster] [--history-rows=N]`
 *
 * Builds Shop, starts it as separate processes over the bench's own databases and vhost, runs
 * the five phases of issue 5 with their raw baselines, checks correctness after each, writes
 * bench/results/<timestamp>.json + bench/results/latest.md and prints the table. With --cluster,
 * phases 1–3 and their checks then run again on 2 instances of each service on the local 3-node
 * RabbitMQ cluster (issue 11). Exit code 1 when anything fails, correctness included; speed never
 * fails a run. `BENCH_SERVICE_NODE_OPTIONS=…` sets the services' NODE_OPTIONS (processes.ts).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => args.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];

if (!flag('no-build')) {
  console.log('[bench] building (turbo run build)');
  const build = spawnSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], {
    cwd: path.resolve(__dirname, '..'),
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    console.error(`[bench] build failed (exit ${build.status})`);
    process.exit(1);
  }
}

// Loaded after the build: the bench imports @shop/* from their dist/.
const { main } = require('./main') as typeof import('./main');
main({
  quick: flag('quick'),
  logLevel: option('log-level') ?? 'info',
  cpuProfile: option('cpu-prof'),
  keepLogs: flag('keep-logs'),
  injectFault: flag('inject-fault'),
  cluster: flag('cluster'),
  historyRows: option('history-rows') === undefined ? undefined : Number(option('history-rows')),
})
  .then((code) => process.exit(code))
  .catch((error: Error) => {
    console.error(`[bench] ${error.stack ?? error.message}`);
    process.exit(1);
  });
