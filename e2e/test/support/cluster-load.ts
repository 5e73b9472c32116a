import { randomBytes } from 'node:crypto';
import { connect } from 'amqplib';
import { Client } from 'pg';
import { deadLetterQueueOf, QUEUES } from '@shop/contracts';
import type { Logger } from '@shop/platform';
import {
  clusterAmqpUrls,
  eventually,
  lockLocalCluster,
  startLocalCluster,
  stopLocalCluster,
  type LocalClusterLock,
  type NodeNumber,
} from '@shop/platform/testing';
import { startReplicatedSystem, type ReplicatedSystem } from './replicated-system';

/**
 * What the whole-system tests on the local cluster share: a retrying client, an order load with
 * cancels interleaved, and the invariants that must hold once everything has settled whatever
 * failed meanwhile (e2e/test/broker-node-loss, rolling-restart, instance-loss).
 */

/** Answers a careful client retries, with its Idempotency-Key for a POST. */
const RETRYABLE = new Set([409, 429, 500, 502, 503, 504]);
const PRODUCT_IDS = [1, 2, 3];
const CONCURRENCY = 6;
/** Every fourth order is cancelled by its owner as soon as it is placed. */
const isCancelled = (index: number) => index % 4 === 0;

export interface Answer {
  status: number;
  body: { id?: number; code?: string; status?: string };
}

export interface RetryingClient {
  send(method: string, path: string, body: unknown, headers?: Record<string, string>): Promise<Answer>;
  retries(): number;
}

/** A client that retries what a careful client would (no answer, 409, 429, 5xx) until a definite answer. */
export function retryingClient(baseUrl: string, token: string): RetryingClient {
  let retries = 0;
  return {
    retries: () => retries,
    send: async (method, path, body, headers = {}) => {
      let tries = 0;
      return eventually(
        async () => {
          if (tries++ > 0) retries++;
          const response = await fetch(`${baseUrl}${path}`, {
            method,
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(15_000),
          });
          const answer: Answer = { status: response.status, body: (await response.json()) as Answer['body'] };
          if (RETRYABLE.has(answer.status))
            throw new Error(`${method} ${path}: ${answer.status} ${answer.body.code}`);
          return answer;
        },
        { description: `a definite answer to ${method} ${path}`, timeoutMs: 60_000, intervalMs: 200 },
      );
    },
  };
}

/**
 * The load: order `index` asks for 1 or 2 of one product and, for every fourth, its owner cancels
 * it right after the 201. Records what each order came to.
 */
export function orderLoad(client: RetryingClient) {
  const run = randomBytes(4).toString('hex');
  const placed = new Map<number, number>(); // order id → load index
  const cancelled = new Set<number>();
  const unexpected: { index: number; step: string; answer: Answer }[] = [];
  let refused = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const sentAtOf = new Map<number, number>(); // order id → when its first try was sent

  async function placeOne(index: number): Promise<void> {
    const sentAt = performance.now();
    const items = [{ product_id: PRODUCT_IDS[index % PRODUCT_IDS.length], quantity: (index % 2) + 1 }];
    const answer = await client.send(
      'POST',
      '/api/v1/orders',
      { items },
      { 'Idempotency-Key': `${run}-${index}` },
    );
    if (answer.status === 400 && answer.body.code === 'insufficient_stock') return void refused++;
    if (answer.status !== 201 || !answer.body.id)
      return void unexpected.push({ index, step: 'place', answer });
    placed.set(answer.body.id, index);
    sentAtOf.set(answer.body.id, sentAt);
    for (const waiter of waiters.filter((waiting) => placed.size >= waiting.count)) waiter.resolve();
    if (!isCancelled(index)) return;
    const cancel = await client.send('PATCH', `/api/v1/orders/${answer.body.id}/status`, {
      status: 'cancelled',
    });
    // 400: already cancelled — by the saga for want of stock, or by this cancel when a retry repeats it.
    if (cancel.status === 200 || cancel.body.code === 'invalid_status_transition')
      cancelled.add(answer.body.id);
    else unexpected.push({ index, step: 'cancel', answer: cancel });
  }

  return {
    placed,
    cancelled,
    unexpected,
    get refused() {
      return refused;
    },
    /** Places the orders of `indices`, CONCURRENCY at a time. */
    async place(indices: number[]): Promise<void> {
      const queue = [...indices];
      const worker = async () => {
        for (let index = queue.shift(); index !== undefined; index = queue.shift()) await placeOne(index);
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    },
    /** The orders whose first try was sent after `time` (performance.now()). */
    sentSince: (time: number) => [...sentAtOf].filter(([, sentAt]) => sentAt > time).map(([id]) => id),
    /** Resolves as the count'th order is placed: no poll, so the kill comes at that point of the load. */
    whenPlaced: (count: number) =>
      new Promise<void>((resolve) => (placed.size >= count ? resolve() : waiters.push({ count, resolve }))),
  };
}

/** The node most of the services' broker connections are on, as the cluster's management API counts them. */
export async function busiestNode(serviceProcesses: number, logger: Logger): Promise<NodeNumber> {
  // The management API lists a connection some seconds after it opened (its stats interval).
  const connections = await eventually(
    async () => {
      const listed = (await management(1, '/api/connections?columns=node')) as { node: string }[];
      return listed.length >= serviceProcesses && listed;
    },
    { description: "every service process's broker connection listed", timeoutMs: 30_000, intervalMs: 500 },
  );
  const byNode = new Map<NodeNumber, number>();
  for (const { node } of connections) {
    const number = Number(/^shopc(\d)@/.exec(node)?.[1]) as NodeNumber;
    byNode.set(number, (byNode.get(number) ?? 0) + 1);
  }
  const [busiest] = [...byNode].sort((a, b) => b[1] - a[1]);
  logger.info('broker connections by node', Object.fromEntries(byNode));
  return busiest?.[0] ?? 1;
}

export async function management(node: NodeNumber, path: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${15680 + node}${path}`, {
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
  });
  if (!response.ok) throw new Error(`GET ${path} on node ${node}: ${response.status}`);
  return response.json();
}

/**
 * Nothing left in flight: both outboxes published, every event of each consumed by the services
 * that consume it (their inboxes), and each notified. A consumer records its inbox row and writes
 * its own events in one transaction, so equal counts leave no event unaccounted for.
 */
export async function settled(shop: ReplicatedSystem): Promise<void> {
  const { orders, products, notifications } = shop.databases;
  await eventually(
    async () => {
      const [orderEvents, productEvents, productInbox, orderInbox, notified] = await Promise.all([
        count(orders.url, 'outbox_events'),
        count(products.url, 'outbox_events'),
        count(products.url, 'processed_messages'),
        count(orders.url, 'processed_messages'),
        count(notifications.url, 'notifications'),
      ]);
      const unpublished =
        (await count(orders.url, 'outbox_events WHERE published_at IS NULL')) +
        (await count(products.url, 'outbox_events WHERE published_at IS NULL'));
      expect({ unpublished, productInbox, orderInbox, notified }).toEqual({
        unpublished: 0,
        productInbox: orderEvents,
        orderInbox: productEvents,
        notified: orderEvents + productEvents,
      });
    },
    { description: 'every event published, consumed and notified', timeoutMs: 120_000, intervalMs: 500 },
  );
}

interface Outcome {
  order_id: number;
  order: string;
  reservation: string | null;
  reserved: number;
  failed: number;
  released: number;
}

/**
 * What may become of an order: held, cancelled and released, rejected for stock (and so cancelled),
 * or cancelled before the product service saw its creation (the tombstone; nothing reserved).
 */
const ALLOWED_OUTCOMES: Omit<Outcome, 'order_id'>[] = [
  { order: 'pending', reservation: 'reserved', reserved: 1, failed: 0, released: 0 },
  { order: 'cancelled', reservation: 'released', reserved: 1, failed: 0, released: 1 },
  { order: 'cancelled', reservation: 'rejected', reserved: 0, failed: 1, released: 0 },
  { order: 'cancelled', reservation: 'cancelled_before_create', reserved: 0, failed: 0, released: 0 },
];

const matches = (outcome: Outcome, allowed: Omit<Outcome, 'order_id'>) =>
  Object.entries(allowed).every(([key, value]) => outcome[key as keyof Outcome] === value);

/** Each order's status, its reservation row and how many of each stock event the product service wrote for it. */
async function outcomesByOrder(
  shop: ReplicatedSystem,
  orders: Record<string, unknown>[],
): Promise<Outcome[]> {
  const reservations = new Map(
    (await query(shop.databases.products.url, 'SELECT order_id, status FROM stock_reservations')).map(
      (row) => [row.order_id as number, row.status as string],
    ),
  );
  const events = await query(
    shop.databases.products.url,
    `SELECT (payload->'data'->>'order_id')::int AS order_id, type, count(*)::int AS n
       FROM outbox_events GROUP BY 1, 2`,
  );
  const eventCount = (orderId: number, type: string) =>
    (events.find((row) => row.order_id === orderId && row.type === type)?.n as number | undefined) ?? 0;
  return orders.map((order) => {
    const id = order.id as number;
    return {
      order_id: id,
      order: order.status as string,
      reservation: reservations.get(id) ?? null,
      reserved: eventCount(id, 'StockReserved'),
      failed: eventCount(id, 'StockReservationFailed'),
      released: eventCount(id, 'StockReleased'),
    };
  });
}

export async function stockByProduct(url: string): Promise<Map<number, number>> {
  const rows = await query(url, 'SELECT id, stock FROM products ORDER BY id');
  return new Map(rows.map((row) => [row.id as number, row.stock as number]));
}

/** Messages waiting in each dead-letter queue, asked of `node` (one that is up; queue leaders answer live). */
async function deadLetterCounts(node: NodeNumber): Promise<Record<string, number>> {
  const survivor = clusterAmqpUrls()[node - 1]!;
  const connection = await connect(survivor);
  try {
    const channel = await connection.createChannel();
    const counts: Record<string, number> = {};
    for (const queue of [QUEUES.productOrders, QUEUES.orderInventory, QUEUES.notificationEvents]) {
      const name = deadLetterQueueOf(queue.name);
      counts[name] = (await channel.checkQueue(name)).messageCount;
    }
    return counts;
  } finally {
    await connection.close();
  }
}

export const range = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, index) => from + index);

async function count(url: string, from: string): Promise<number> {
  const [row] = await query(url, `SELECT count(*)::int AS n FROM ${from}`);
  return row.n as number;
}

/**
 * The events the notification service recorded before what must precede them: the event before them
 * in their stream (source, order, sequence - 1) or their cause. A notification's id is taken when
 * its transaction writes it, after what it waited for had committed.
 */
async function recordedOutOfOrder(shop: ReplicatedSystem): Promise<string[]> {
  const eventsOf = (url: string) =>
    query(
      url,
      `SELECT id, payload->>'source' AS source, payload->>'subject' AS subject, sequence,
              payload->>'causationid' AS cause FROM outbox_events`,
    );
  const events = [
    ...(await eventsOf(shop.databases.orders.url)),
    ...(await eventsOf(shop.databases.products.url)),
  ];
  const recordedAt = new Map(
    (await query(shop.databases.notifications.url, 'SELECT id, event_id FROM notifications')).map((row) => [
      row.event_id as string,
      Number(row.id),
    ]),
  );
  const idAt = new Map(
    events.map((event) => [`${event.source} ${event.subject} ${event.sequence}`, event.id]),
  );
  return events
    .filter((event) => {
      const at = recordedAt.get(event.id as string)!;
      const previous = idAt.get(`${event.source} ${event.subject} ${Number(event.sequence) - 1}`);
      const before = [previous, event.cause].filter(
        (id): id is string => typeof id === 'string' && recordedAt.has(id),
      );
      return before.some((id) => recordedAt.get(id)! > at);
    })
    .map((event) => `${event.source} order ${event.subject} #${event.sequence}`);
}

export async function query(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  // Bounded, so a stuck query fails its try (and `eventually` tries again) instead of hanging it.
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export type OrderLoad = ReturnType<typeof orderLoad>;

/**
 * Once everything has settled: every 201 is one order and there is no other; each order reserved
 * once or rejected, and released once if cancelled; stock conserved; one notification per event,
 * recorded in order; nothing dead-lettered (asked of `askNode`, a node that is up).
 */
export async function expectShopConsistent(
  shop: ReplicatedSystem,
  load: OrderLoad,
  initialStock: Map<number, number>,
  askNode: NodeNumber,
): Promise<void> {
  // every 201 is one order, and there is no other.
  expect(load.unexpected).toEqual([]);
  const orders = await query(shop.databases.orders.url, 'SELECT id, status FROM orders ORDER BY id');
  expect(orders.map((order) => order.id)).toEqual([...load.placed.keys()].sort((a, b) => a - b));

  // each order reserved exactly once or rejected, and released exactly once if cancelled.
  const outcomes = await outcomesByOrder(shop, orders);
  const unexplained = outcomes.filter(
    (outcome) => !ALLOWED_OUTCOMES.some((allowed) => matches(outcome, allowed)),
  );
  expect(unexplained).toEqual([]);
  for (const id of load.cancelled)
    expect(outcomes.find((outcome) => outcome.order_id === id)?.order).toBe('cancelled');
  const released = outcomes.filter((outcome) => outcome.reservation === 'released').length;
  const held = outcomes.filter((outcome) => outcome.reservation === 'reserved').length;
  expect({ released: released > 0, held: held > 0 }).toEqual({ released: true, held: true });

  // stock conserved — initial − reserved + released = current, per product.
  const reservations = await query(
    shop.databases.products.url,
    "SELECT status, items FROM stock_reservations WHERE status IN ('reserved', 'released')",
  );
  const expected = new Map(initialStock);
  for (const reservation of reservations)
    for (const item of reservation.items as { product_id: number; quantity: number }[]) {
      const change = reservation.status === 'released' ? 0 : -item.quantity;
      expected.set(item.product_id, expected.get(item.product_id)! + change);
    }
  expect(await stockByProduct(shop.databases.products.url)).toEqual(expected);

  // one notification per event id, for every event either service published.
  const published = [
    ...(await query(shop.databases.orders.url, 'SELECT id FROM outbox_events')),
    ...(await query(shop.databases.products.url, 'SELECT id FROM outbox_events')),
  ].map((row) => row.id as string);
  const notified = (await query(shop.databases.notifications.url, 'SELECT event_id FROM notifications')).map(
    (row) => row.event_id as string,
  );
  expect(notified.length).toBe(published.length);
  expect(new Set(notified)).toEqual(new Set(published));

  // each order's events were recorded in order (SPEC §6 "Ordering"), with several instances
  // consuming: every notification after the one before it in its stream and after its cause.
  expect(await recordedOutOfOrder(shop)).toEqual([]);

  // nothing was dead-lettered.
  expect(await deadLetterCounts(askNode)).toEqual({
    [deadLetterQueueOf(QUEUES.productOrders.name)]: 0,
    [deadLetterQueueOf(QUEUES.orderInventory.name)]: 0,
    [deadLetterQueueOf(QUEUES.notificationEvents.name)]: 0,
  });
}

/**
 * The whole system on the local 3-node cluster for one test file: before its tests, takes the
 * cluster lock (the cluster's ports and folder are fixed, so one file at a time), starts the cluster
 * and two instances of every service, and sets every product's stock; after them, stops it all and
 * lets the lock go. Returns the system, to be called inside the tests.
 */
export function useShopOnLocalCluster(options: {
  stockPerProduct: number;
  logger: Logger;
}): () => ReplicatedSystem {
  const { logger } = options;
  let lock: LocalClusterLock | undefined;
  let system: ReplicatedSystem | undefined;

  beforeAll(async () => {
    const waiting = performance.now();
    lock = await lockLocalCluster();
    const locked = performance.now();
    await startLocalCluster();
    const clusterUp = performance.now();
    system = await startReplicatedSystem(clusterAmqpUrls().join(','));
    await query(system.databases.products.url, 'UPDATE products SET stock = $1', [options.stockPerProduct]);
    // The file's fixed cost against the suite's time budget, apart from another file's hold on the lock.
    logger.info('cluster and system started', {
      lock_waited_ms: Math.round(locked - waiting),
      cluster_start_ms: Math.round(clusterUp - locked),
      system_start_ms: Math.round(performance.now() - clusterUp),
    });
  }, 15 * 60_000);

  afterAll(async () => {
    // With LOG_LEVEL=debug, what every process logged: the first thing to read when this fails.
    logger.debug('service outputs', { outputs: system?.outputs() });
    try {
      await system?.stop();
    } finally {
      try {
        await stopLocalCluster();
      } finally {
        await lock?.release();
      }
    }
  }, 5 * 60_000);

  return () => {
    if (!system) throw new Error('the system is not started: call the getter inside a test');
    return system;
  };
}
