/**
 * `npx tsx bench/experiments/persistence.ts [--ops N] [--concurrency C[,C…]] [--rounds R]
 *  [--warm-up W] [--only order|stock] [--variants key,…] [--trace]` — issue 10's measurement before the persistence redesign:
 * CPU per operation of placing an order and of reserving stock through today's `pg` code, plain
 * `pg` in the interactive-transaction shape, Prisma Client (order- and product-service's generated
 * clients over @prisma/adapter-pg) and Kysely on `pg`. Each variant runs in-process against a
 * scratch database with the service's own migrations (dropped afterwards), W warm-up operations
 * then N measured ones with C in flight, and is checked for correctness after its run. It prints
 * Node CPU (process.cpuUsage) and Postgres CPU (the scratch database's own backends, from
 * /proc/<pid>/schedstat) per operation, operations per second and round trips per operation; with
 * R > 1 rounds, the median and the range of each figure. Defaults: N 3000, C 1,8, R 1, W 300.
 * `--variants today,kysely,…` runs only those variants (keys as in the progress lines);
 * `--trace --ops 1 --warm-up 0 --concurrency 1` prints the SQL each variant sends for one operation.
 * Needs a build of platform and contracts (`npx turbo run build`) and the generated Prisma clients
 * (`npm run generate`).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import type { Experiment } from './persistence/experiment';
import { countRoundTrips, measure, type Measurement } from './persistence/measure';
import { orderExperiment } from './persistence/order-variants';
import {
  connectAdmin,
  createScratchDatabase,
  dropLeftoverScratchDatabases,
  dropScratchDatabase,
} from './persistence/scratch-database';
import { stockExperiment } from './persistence/stock-variants';

interface Result {
  experiment: string;
  variant: string;
  label: string;
  concurrency: number;
  runs: Measurement[];
  problems: string[];
}

const EXPERIMENTS = [orderExperiment, stockExperiment] as unknown as Experiment<unknown>[];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ops: { type: 'string', default: '3000' },
      concurrency: { type: 'string', default: '1,8' },
      rounds: { type: 'string', default: '1' },
      'warm-up': { type: 'string', default: '300' },
      only: { type: 'string' },
      variants: { type: 'string' },
      trace: { type: 'boolean', default: false },
    },
  });
  const ops = Number(values.ops);
  const warmUp = Number(values['warm-up']);
  const rounds = Number(values.rounds);
  const concurrencies = values.concurrency.split(',').map(Number);
  const experiments = EXPERIMENTS.filter((experiment) => !values.only || experiment.key === values.only);
  const chosen = values.variants?.split(',');

  countRoundTrips({ trace: values.trace });
  const admin = await connectAdmin();
  const results = new Map<string, Result>();
  const startedAt = new Date();
  const loadBefore = loadavg()[0]!;
  try {
    await dropLeftoverScratchDatabases(admin);
    for (let round = 0; round < rounds; round++) {
      for (const experiment of experiments) {
        const inputs = experiment.inputs(warmUp + ops);
        for (const concurrency of concurrencies) {
          // Rotated each round, so a slow stretch of the shared machine does not always hit the same variant.
          const variants = rotate(
            experiment.variants.filter((variant) => !chosen || chosen.includes(variant.key)),
            round,
          );
          for (const variant of variants) {
            const database = await createScratchDatabase(
              admin,
              `${experiment.key}_${variant.key}`,
              experiment.schema,
            );
            const setup = new Pool({ connectionString: database.url, max: 2 });
            setup.on('error', () => undefined); // an ended pool's last client may still be closing when the drop below terminates it
            try {
              await experiment.seed?.(setup);
              const handle = await variant.open(database.url, concurrency);
              let measured: Measurement;
              try {
                measured = await measure({
                  inputs,
                  warmUp,
                  concurrency,
                  operation: handle.run,
                  admin,
                  database: database.name,
                });
              } finally {
                await handle.close();
              }
              const problems = await experiment.check(setup, inputs);
              const key = `${experiment.key}/${variant.key}/${concurrency}`;
              const result = results.get(key) ?? {
                experiment: experiment.title,
                variant: variant.key,
                label: variant.label,
                concurrency,
                runs: [],
                problems: [],
              };
              result.runs.push(measured);
              result.problems.push(...problems);
              results.set(key, result);
              process.stderr.write(
                `round ${round + 1} ${key}: ${measured.opsPerSecond.toFixed(0)} ops/s, ` +
                  `Node ${measured.nodeMs.toFixed(3)} + Postgres ${measured.postgresMs.toFixed(3)} ms/op` +
                  `${problems.length ? `, WRONG: ${problems.join('; ')}` : ''}\n`,
              );
            } finally {
              await setup.end();
              await dropScratchDatabase(admin, database.name);
            }
          }
        }
      }
    }
  } finally {
    await admin.end();
  }
  printReport([...results.values()], {
    ops,
    warmUp,
    rounds,
    startedAt,
    load: [loadBefore, loadavg()[0]!],
  });
  if ([...results.values()].some((result) => result.problems.length > 0)) process.exitCode = 1;
}

const rotate = <T>(items: readonly T[], by: number): T[] =>
  items.map((_, index) => items[(index + by) % items.length]!);

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The median, and with more than one run its range: "0.412 (0.398–0.431)". */
function figure(runs: Measurement[], pick: (run: Measurement) => number, digits: number): string {
  const values = runs.map(pick);
  const middle = median(values).toFixed(digits);
  if (values.length < 2) return middle;
  return `${middle} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
}

const total = (run: Measurement) => run.nodeMs + run.postgresMs;

function printReport(
  results: Result[],
  context: { ops: number; warmUp: number; rounds: number; startedAt: Date; load: [number, number] },
): void {
  console.log(
    `\nPersistence paths, ${context.ops} measured operations after ${context.warmUp} warm-up, ` +
      `${context.rounds} round(s); started ${context.startedAt.toISOString()}, load average (1 min) ` +
      `${context.load[0].toFixed(1)} → ${context.load[1].toFixed(1)}, Node ${process.version}\n`,
  );
  console.log(
    '| Operation | Variant | In flight | ops/s | Node CPU ms/op | Postgres CPU ms/op | Node + Postgres ms/op | Round trips/op | Check |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---|');
  for (const result of results) {
    const { runs } = result;
    console.log(
      `| ${result.experiment} | ${result.label} | ${result.concurrency} | ${figure(runs, (run) => run.opsPerSecond, 0)} | ` +
        `${figure(runs, (run) => run.nodeMs, 3)} | ${figure(runs, (run) => run.postgresMs, 3)} | ` +
        `${figure(runs, total, 3)} | ${figure(runs, (run) => run.roundTrips, 2)} | ` +
        `${result.problems.length ? `**wrong**: ${[...new Set(result.problems)].join('; ')}` : 'correct'} |`,
    );
  }
  console.log('\nPrisma Client relative to the others (medians; 1.20 = Prisma costs 20 % more CPU):\n');
  console.log('| Operation | In flight | Prisma vs | Node + Postgres | Node alone |');
  console.log('|---|---:|---|---:|---:|');
  for (const prisma of results.filter((result) => result.variant.startsWith('prisma'))) {
    for (const other of results) {
      if (other.experiment !== prisma.experiment || other.concurrency !== prisma.concurrency) continue;
      if (other.variant.startsWith('prisma')) continue;
      const ratio = (pick: (run: Measurement) => number) =>
        (median(prisma.runs.map(pick)) / median(other.runs.map(pick))).toFixed(2);
      console.log(
        `| ${prisma.experiment} | ${prisma.concurrency} | ${prisma.label} vs ${other.label} | ` +
          `${ratio(total)} | ${ratio((run) => run.nodeMs)} |`,
      );
    }
  }
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
