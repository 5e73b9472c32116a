import { Client } from 'pg';
import { backendSecondsBetween, readBackendCpu } from './backend-cpu';

let roundTrips = 0;
/**
 * Counts every `query` call on a node-postgres client: Prisma's driver adapter, Kysely and plain
 * `pg` all end there, so this is the number of round trips a variant makes (a multi-statement
 * string such as `BEGIN; SELECT pg_advisory_xact_lock(…)` is one). Installed once; costs one
 * increment per query, the same for every variant.
 */
export function countRoundTrips(options: { trace?: boolean } = {}): void {
  const query = Client.prototype.query;
  Client.prototype.query = function countedQuery(this: Client, ...args: unknown[]) {
    roundTrips++;
    if (options.trace) process.stderr.write(`  sql: ${describeQuery(args[0])}\n`);
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
}

/** The statement's text on one line, for `--trace`. */
function describeQuery(query: unknown): string {
  const text = typeof query === 'string' ? query : String((query as { text?: unknown }).text);
  return text.replace(/\s+/g, ' ').trim().slice(0, 160);
}

export interface Measurement {
  ops: number;
  opsPerSecond: number;
  /** Node CPU (user + system, every thread of this process) per operation, ms. */
  nodeMs: number;
  /** CPU of the database's own backends per operation, ms. */
  postgresMs: number;
  roundTrips: number;
}

/**
 * Runs `inputs` through `operation` with `concurrency` in flight (each worker takes the next
 * input as it finishes one), first `warmUp` of them unmeasured (JIT, prepared statements, Prisma's
 * query-plan cache, every pooled connection opened), then the rest measured.
 */
export async function measure<Input>(options: {
  inputs: readonly Input[];
  warmUp: number;
  concurrency: number;
  operation: (input: Input) => Promise<unknown>;
  admin: Client;
  database: string;
}): Promise<Measurement> {
  const { inputs, warmUp, concurrency, operation } = options;
  const runRange = async (from: number, to: number) => {
    let next = from;
    const worker = async () => {
      while (next < to) await operation(inputs[next++]!);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  await runRange(0, warmUp);
  const ops = inputs.length - warmUp;
  const postgresBefore = await readBackendCpu(options.admin, options.database);
  const tripsBefore = roundTrips;
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  await runRange(warmUp, inputs.length);
  const seconds = (performance.now() - started) / 1000;
  const node = process.cpuUsage(nodeBefore);
  const trips = roundTrips - tripsBefore;
  const postgresSeconds = backendSecondsBetween(
    postgresBefore,
    await readBackendCpu(options.admin, options.database),
  );
  return {
    ops,
    opsPerSecond: ops / seconds,
    nodeMs: (node.user + node.system) / 1000 / ops,
    postgresMs: (postgresSeconds * 1000) / ops,
    roundTrips: trips / ops,
  };
}
