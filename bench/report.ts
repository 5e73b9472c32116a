import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CoresUsed } from './machine-cpu';
import type { ConsumerThroughput } from './phases/consumer-throughput';
import type { EventLatency } from './phases/event-latency';
import type { History } from './phases/history';
import { showStatuses, type OrderPlacement } from './phases/order-placement';
import type { RelayDrain } from './phases/relay-drain';
import type { ResourceUse } from './resources';
import type { BenchSettings } from './settings';
import type { Percentiles } from './stats';

/** The figures of phases 1–3, which the single-node run and the cluster run both produce. */
export interface SystemFigures {
  placement?: OrderPlacement;
  eventLatency?: EventLatency;
  relayDrain?: RelayDrain;
}

/** `--cluster`: phases 1–3 again, on a second system with several instances on the local RabbitMQ cluster. */
export interface ClusterFigures extends SystemFigures {
  nodes: number;
  instancesPerService: number;
  /** DATABASE_POOL_SIZE of each instance. */
  poolSizes: Record<string, number>;
  /** What the correctness checks on the cluster system proved. */
  checks: string[];
}

export interface Results extends SystemFigures {
  startedAt: string;
  finishedAt?: string;
  settings: BenchSettings;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGb: number;
    node: string;
    postgres?: string;
    rabbitmq?: string;
    /** 1-minute load average when the run started and ended: the box is shared, this says how much. */
    loadAverage: { start: number; end?: number };
  };
  consumer?: ConsumerThroughput;
  history?: History;
  resources?: Record<string, ResourceUse>;
  cluster?: ClusterFigures;
  checks: string[];
  targets?: Target[];
  error?: string;
}

export interface Target {
  name: string;
  goal: string;
  value: string;
  met: boolean;
}

export function machine(): Results['machine'] {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: { start: os.loadavg()[0] },
  };
}

/** The targets (issue 5's, issue 12's and issue 13's, each named with its issue), judged on this run's figures. */
export function judge(results: Results): Target[] {
  const targets: Target[] = [];
  const placement = results.placement;
  if (placement) {
    const perOrder = Object.values(placement.cpuMsPerOrder).reduce((sum, value) => sum + value, 0);
    targets.push({
      name: 'CPU per order placed, all processes, its events included',
      goal: '≤ 8 ms (issue 12)',
      value: `${perOrder.toFixed(2)} ms`,
      met: perOrder <= 8,
    });
    // One proxied request per order placed: the gateway's CPU per order is its CPU per request.
    const gateway = placement.cpuMsPerOrder.gateway;
    if (gateway !== undefined)
      targets.push({
        name: 'gateway CPU per proxied request (POST /orders)',
        goal: '≤ 0.4 ms (issue 12)',
        value: `${gateway.toFixed(2)} ms`,
        met: gateway <= 0.4,
      });
  }
  const c1 = placement?.levels.find((level) => level.concurrency === 1);
  if (c1)
    targets.push({
      name: 'POST /orders at 1 connection p50',
      goal: '≤ 4 ms (issue 12)',
      value: `${c1.shop.latency.p50.toFixed(1)} ms`,
      met: c1.shop.latency.p50 <= 4,
    });
  const c32 = placement?.levels.find((level) => level.concurrency === 32);
  if (c32) {
    targets.push({
      name: 'order placement @32 vs raw SQL',
      goal: '≥ 0.25×',
      value: `${c32.ratio.toFixed(2)}×`,
      met: c32.ratio >= 0.25,
    });
    targets.push({
      name: 'order placement @32 p99',
      goal: '≤ 30 ms',
      value: `${c32.shop.latency.p99.toFixed(1)} ms`,
      met: c32.shop.latency.p99 <= 30,
    });
  }
  const events = results.eventLatency;
  if (events) {
    // Issue 12's goals for the headline latency (issue 5's were for a figure no longer measured).
    const at = `@ ${events.rate}/s${events.notSustained.length ? ', rate not sustained' : ''}`;
    const latency = events.responseToStockReservedEvent;
    targets.push({
      name: `201 → StockReserved at a subscriber p50 (${at})`,
      goal: '≤ 5 ms (issue 12)',
      value: `${latency.p50.toFixed(1)} ms`,
      met: latency.p50 <= 5,
    });
    targets.push({
      name: `201 → StockReserved at a subscriber p99 (${at})`,
      goal: '≤ 25 ms (issue 12)',
      value: `${latency.p99.toFixed(1)} ms`,
      met: latency.p99 <= 25,
    });
  }
  if (results.relayDrain) {
    const r = results.relayDrain.ratio;
    targets.push({
      name: 'relay drain (1 relay) vs raw confirm publish',
      goal: '≥ 0.8× (issues 5, 12)',
      value: `${r.toFixed(2)}×`,
      met: r >= 0.8,
    });
    const [one, two] = results.relayDrain.runs;
    if (one && two)
      targets.push({
        name: 'relay drain: two relays vs one',
        goal: '≥ 1× (issue 12)',
        value: x2(two.messagesPerSecond / one.messagesPerSecond),
        met: two.messagesPerSecond >= one.messagesPerSecond,
      });
  }
  if (results.consumer) {
    const c = results.consumer;
    targets.push({
      name: 'product consumer vs raw (its statements)',
      goal: '≥ 0.8× (issue 12)',
      value: `${c.ratio.toFixed(2)}×`,
      met: c.ratio >= 0.8,
    });
    targets.push({
      name: 'notification service catching up',
      goal: '≥ 2 000 events/s (issue 12)',
      value: `${n0(c.notificationEventsPerSecond)} events/s`,
      met: c.notificationEventsPerSecond >= 2000,
    });
    targets.push({
      name: 'notification service vs raw (its statements)',
      goal: '≥ 0.8× (issue 12)',
      value: `${c.notificationRatio.toFixed(2)}×`,
      met: c.notificationRatio >= 0.8,
    });
  }
  for (const c of results.history?.comparisons ?? [])
    targets.push({
      name: `with history: ${c.measure}, vs empty tables`,
      goal: '≥ 0.9× (issue 13)',
      value: x2(c.ratio),
      met: c.ratio >= 0.9,
    });
  for (const run of results.history?.retention ?? []) {
    targets.push({
      name: `retention of one day's partition, ${run.table}`,
      goal: '< 1 s (issue 13)',
      value: `${(run.seconds * 1000).toFixed(0)} ms`,
      met: run.seconds < 1,
    });
    const created = run.liveDeadTuples.after - run.liveDeadTuples.before;
    targets.push({
      name: `dead tuples retention created in the live partitions, ${run.table}`,
      goal: '0 (issue 13)',
      value: String(created),
      met: created <= 0,
    });
  }
  for (const [role, use] of Object.entries(results.resources ?? {})) {
    targets.push({
      name: `${role} peak RSS`,
      goal: '≤ 150 MB (issue 12)',
      value: `${use.peakRssMb.toFixed(0)} MB`,
      met: use.peakRssMb <= 150,
    });
  }
  return targets;
}

const n0 = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : '—');
const x2 = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '—');
const cores = (c: CoresUsed, publisher: number) =>
  [c.rabbitmq, c.postgres, publisher, c.machine].map((value) => value.toFixed(2)).join(' / ');
const ms = (p: Percentiles) => `${p.p50.toFixed(1)} / ${p.p95.toFixed(1)} / ${p.p99.toFixed(1)}`;

type Row = string[];

function placementRows(placement: OrderPlacement, cpus: number): Row[] {
  const rows: Row[] = [];
  for (const level of placement.levels) {
    const { shop } = level;
    rows.push([
      `1 · POST /orders, ${level.concurrency} conn`,
      '201 answers/s',
      n0(shop.ordersPerSecond),
      n0(level.baseline.ordersPerSecond),
      x2(level.ratio),
    ]);
    rows.push(['', '201 answers: p50 / p95 / p99 ms', ms(shop.latency), ms(level.baseline.latency), '']);
    rows.push([
      '',
      'not in the figures above: shed (429/503/504) · timed out or failed',
      `${shop.shed ? `${shop.shed} (${showStatuses(shop.shedByStatus)}; p50 ${shop.shedLatency.p50.toFixed(1)} ms)` : '0'} · ${shop.errors}`,
      '',
      '',
    ]);
  }
  const list = (ms: Record<string, number>) =>
    Object.entries(ms)
      .filter(([, value]) => value > 0)
      .map(([role, value]) => `${role} ${value.toFixed(2)}`)
      .join('<br>');
  const total = (ms: Record<string, number>) => Object.values(ms).reduce((sum, value) => sum + value, 0);
  const { cpuMsPerOrder, baselineCpuMsPerOrder } = placement;
  rows.push([
    '1 · CPU per order placed',
    'ms of CPU per order, its events included (raw: per transaction; ratio: raw ÷ Shop)',
    `${list(cpuMsPerOrder)}<br>**total ${total(cpuMsPerOrder).toFixed(2)}**`,
    `${list(baselineCpuMsPerOrder)}<br>**total ${total(baselineCpuMsPerOrder).toFixed(2)}**`,
    x2(total(baselineCpuMsPerOrder) / total(cpuMsPerOrder)),
  ]);
  rows.push([
    '1 · busy cores during the load',
    `of ${cpus}, whole machine, at ${placement.levels.map((l) => l.concurrency).join(' / ')} conn`,
    placement.levels.map((l) => l.shop.cores.machine.toFixed(2)).join(' / '),
    placement.levels.map((l) => l.baseline.cores.machine.toFixed(2)).join(' / '),
    '',
  ]);
  return rows;
}

function latencyRows(e: EventLatency, cpus: number): Row[] {
  const held = e.notSustained.length
    ? `**NOT sustained**: ${e.notSustained.join('; ')}`
    : `sustained (every rate ≥ 95 % of ${e.rate}/s, sender p99 on time, nothing shed)`;
  return [
    [
      `2 · event latency at a fixed ${e.rate}/s (${e.orders} orders answered 201${e.shed ? `, ${e.shed} shed (${showStatuses(e.shedByStatus)})` : ''}${e.failed ? `, ${e.failed} without an answer (${e.firstFailure})` : ''})`,
      "client's 201 → StockReserved at a bench subscriber, p50 / p95 / p99 ms",
      ms(e.responseToStockReservedEvent),
      '',
      '',
    ],
    [
      '',
      `rate held? sent / 201s / StockReserved per s against ${e.rate}/s`,
      `${e.sentPerSecond.toFixed(1)} / ${e.answeredPerSecond.toFixed(1)} / ${e.reservedPerSecond.toFixed(1)} — ${held}`,
      '',
      '',
    ],
    ['', 'load generator behind its schedule, p50 / p95 / p99 ms', ms(e.senderLateness), '', ''],
    ['', `busy cores of ${cpus}, whole machine, while sending`, e.busyCores.toFixed(2), '', ''],
  ];
}

function drainRows(d: RelayDrain): Row[] {
  return d.runs.flatMap((run) => [
    [
      `3 · relay drain, ${run.events} events, ${run.relays} relay${run.relays > 1 ? 's' : ''}`,
      `msgs/s (window ${d.window}; wall incl. start-up ${run.wallSeconds.toFixed(1)} s)`,
      n0(run.messagesPerSecond),
      n0(d.baseline.messagesPerSecond),
      x2(run.messagesPerSecond / d.baseline.messagesPerSecond),
    ],
    [
      '',
      'busy cores: RabbitMQ / Postgres / relays (raw: publisher) / machine',
      cores(run.cores, run.cores.relays),
      cores(d.baseline.cores, d.baseline.cores.bench),
      '',
    ],
    [
      '',
      "the order database's block accesses per message: in shared buffers / read from outside them",
      run.blocks ? `${run.blocks.hit.toFixed(1)} / ${run.blocks.read.toFixed(1)}` : '—',
      '',
      '',
    ],
  ]);
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

function historyRows(h: History): Row[] {
  const filled = Object.entries(h.fill.rows)
    .map(([table, rows]) => `${table} ${rows}`)
    .join(', ');
  const rows: Row[] = [
    [
      `5 · history: ${h.rows} rows over ${h.fill.from.slice(0, 10)} … ${h.fill.to.slice(0, 10)}`,
      `${filled}; filled in s: INSERT … SELECT / VACUUM ANALYZE / CHECKPOINT`,
      `${h.fill.insertSeconds.toFixed(1)} / ${h.fill.vacuumSeconds.toFixed(1)} / ${h.fill.checkpointSeconds.toFixed(1)}`,
      '',
      '',
    ],
  ];
  for (const c of h.comparisons)
    rows.push([
      '',
      `${c.measure} — with history (baseline column: same phase, empty tables)`,
      n0(c.history),
      n0(c.empty),
      x2(c.ratio),
    ]);
  for (const run of h.retention)
    rows.push([
      '',
      `retention of the oldest day, ${run.table}: wall ms of dropExpiredPartitions; n_dead_tup of the live partitions before → after`,
      `${(run.seconds * 1000).toFixed(0)} ms; ${run.liveDeadTuples.before} → ${run.liveDeadTuples.after}`,
      '',
      '',
    ]);
  const { beforeFill, afterFill, afterRetention } = h.sizes;
  beforeFill.forEach((size, index) =>
    rows.push([
      '',
      `${size.table}: MB (partitions) before the fill / after it / after retention`,
      [size, afterFill[index], afterRetention[index]]
        .map((at) => `${mb(at.bytes)} (${at.partitions})`)
        .join(' / '),
      '',
      '',
    ]),
  );
  return rows;
}

/** Rows of phases 1–3, for the single-node run and the cluster run alike. */
function systemRows(figures: SystemFigures, cpus: number): Row[] {
  return [
    ...(figures.placement ? placementRows(figures.placement, cpus) : []),
    ...(figures.eventLatency ? latencyRows(figures.eventLatency, cpus) : []),
    ...(figures.relayDrain ? drainRows(figures.relayDrain) : []),
  ];
}

const table = (header: Row, rows: Row[]) => [
  `| ${header.join(' | ')} |`,
  '|---|---|---:|---:|---:|',
  ...rows.map((row) => `| ${row.join(' | ')} |`),
];

/** The cluster run's table, with what differs from the single-node run said above it. */
function clusterSection(cluster: ClusterFigures, cpus: number): string[] {
  const pools = Object.entries(cluster.poolSizes)
    .map(([service, size]) => `${service} ${size}`)
    .join(', ');
  return [
    `**Cluster (${cluster.nodes} nodes, ${cluster.instancesPerService} instances each)** — phases 1–3 again on a second copy of Shop: ` +
      `${cluster.instancesPerService} instances each of the order, product and notification services behind one gateway, ` +
      `every one given the ${cluster.nodes} nodes of the local RabbitMQ cluster (its quorum queues replicated across the nodes); ` +
      `database pool per instance ${pools}. ` +
      (cluster.placement?.rawReused
        ? "Phase 1's raw baseline is the single-node run's (it uses no broker). "
        : '') +
      'Phase 3 drains through the cluster, and its raw baseline publishes to it.',
    '',
    ...table(['Phase', 'Measure', 'Shop on the cluster', 'Raw baseline', 'Ratio'], systemRows(cluster, cpus)),
    '',
  ];
}

const checksPassed = ({ checks, cluster }: Results) =>
  [...checks, ...(cluster ? [`on the cluster: ${cluster.checks.join('; ')}`] : [])].join('; ');

export function markdown(results: Results): string {
  const rows = systemRows(results, results.machine.cpus);
  if (results.consumer) {
    const c = results.consumer;
    rows.push([
      `4 · consumer, ${c.events} OrderCreated`,
      `product service reserving, events/s, its relay publishing (raw: its statements, ${c.baseline.concurrency} in flight, ` +
        `a relay publishing too; wall incl. start-up ${c.wallSeconds.toFixed(1)} s)`,
      n0(c.eventsPerSecond),
      n0(c.baseline.eventsPerSecond),
      x2(c.ratio),
    ]);
    rows.push([
      '',
      `notification service catching up on ${2 * c.events} events (restarted after the drain), events/s ` +
        `(raw: its statements, ${c.notificationBaseline.concurrency} in flight)`,
      n0(c.notificationEventsPerSecond),
      n0(c.notificationBaseline.eventsPerSecond),
      x2(c.notificationRatio),
    ]);
  }
  if (results.history) rows.push(...historyRows(results.history));
  for (const [role, use] of Object.entries(results.resources ?? {})) {
    const ready = use.readyRssMb ? `${use.readyRssMb.toFixed(0)} / ` : '';
    const measure = `${ready ? 'RSS when ready / ' : ''}peak RSS MB / CPU s (${use.processes} process${use.processes > 1 ? 'es' : ''})`;
    rows.push([
      `6 · ${role}`,
      measure,
      `${ready}${use.peakRssMb.toFixed(0)} / ${use.cpuSeconds.toFixed(1)}`,
      '',
      '',
    ]);
  }
  const targets = (results.targets ?? []).map(
    (t) => `| ${t.name} | ${t.goal} | ${t.value} | ${t.met ? 'met' : '**missed**'} |`,
  );
  const m = results.machine;
  return [
    `## Shop benchmark — ${results.settings.mode} run, ${results.startedAt}`,
    '',
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}${m.postgres ? `, PostgreSQL ${m.postgres}` : ''}${m.rabbitmq ? `, RabbitMQ ${m.rabbitmq}` : ''}; everything on one box. Load average (1 min) ${m.loadAverage.start.toFixed(1)} at the start, ${m.loadAverage.end?.toFixed(1) ?? '?'} at the end.`,
    '',
    ...table(['Phase', 'Measure', 'Shop', 'Raw baseline', 'Ratio'], rows),
    '',
    ...(results.cluster ? clusterSection(results.cluster, m.cpus) : []),
    ...(targets.length
      ? [
          '| Target (issue 5 unless the goal names another) | Goal | This run | |',
          '|---|---|---:|---|',
          ...targets,
          '',
        ]
      : []),
    `Correctness: ${results.error ? `**FAILED** — ${results.error}` : `all checks passed (${checksPassed(results)})`}.`,
    ...(results.settings.mode === 'quick'
      ? [
          '',
          '_Quick run: small N, a smoke test of correctness; its figures are not comparable to a full run._',
        ]
      : []),
    '',
  ].join('\n');
}

export function finish(results: Results): void {
  results.finishedAt = new Date().toISOString();
  results.machine.loadAverage.end = os.loadavg()[0];
  results.targets = judge(results);
}

export function writeResults(results: Results): { json: string; md: string } {
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const json = path.join(dir, `${stamp}${results.settings.mode === 'quick' ? '-quick' : ''}.json`);
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  const md = path.join(dir, 'latest.md');
  writeFileSync(md, markdown(results));
  return { json, md };
}
