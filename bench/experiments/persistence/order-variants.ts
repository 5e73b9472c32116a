import { PrismaPg } from '@prisma/adapter-pg';
import {
  createLogger,
  createPgPool,
  inTransaction,
  outboxPlaceholders,
  outboxRow,
  OUTBOX_COLUMNS,
  pgExecutor,
} from '@shop/platform';
import type { Pool } from 'pg';
import { createIdempotencyRepository } from '../../../order-service/src/db/idempotency-repository';
import { toOrder } from '../../../order-service/src/db/order-mapper';
import { createOrderWriter } from '../../../order-service/src/db/order-writer';
import { createPrisma, type Prisma } from '../../../order-service/src/db/prisma';
import { PrismaClient } from '../../../order-service/src/generated/prisma/client';
import { orderEvents } from '../../../order-service/src/messaging/order-events';
import type { Experiment, Variant } from './experiment';
import { kyselyExecutor, loadKysely, type OrderTables } from './kysely-tables';
import { checkOrders, contractOrder, orderInputs, type OrderInput } from './order-inputs';
import { preparedStatementNames } from './prisma-statements';

/*
 * Placing an order, persistence only: claim the Idempotency-Key (its own statement, before the
 * product call in the service), then write order + items + OrderCreated outbox row + the claim's
 * stored response so that all of it commits or none. "Today" is the service's own code; the others
 * write the same rows in the interactive-transaction shape (BEGIN; insert; build the event from
 * what came back; append; complete the claim — or roll back if it was lost; COMMIT).
 */

const logger = createLogger('bench-persistence', 'error');
const DEADLINE_MS = 30_000;
/** The service's interactive-transaction limits (order-service runInTransaction). */
const PRISMA_TX = { maxWait: 10_000, timeout: 15_000 };

class ClaimLost extends Error {}

/** The service's client (`createPrisma`) with statement names added. */
const createPreparedPrisma = (url: string, poolSize: number): Prisma =>
  new PrismaClient({
    adapter: new PrismaPg(createPgPool(url, { max: poolSize, logger }), {
      disposeExternalPool: true,
      statementNameGenerator: preparedStatementNames(),
    }),
  });

const claimed = (token: string | undefined): string => {
  if (!token) throw new ClaimLost('the Idempotency-Key was already claimed');
  return token;
};

const today: Variant<OrderInput> = {
  key: 'today',
  label: 'pg: reserve ids + one CTE statement (today)',
  async open(url, poolSize) {
    const pool = createPgPool(url, { max: poolSize, logger });
    const idempotency = createIdempotencyRepository(pool, DEADLINE_MS);
    const writer = createOrderWriter(pool);
    return {
      async run(input) {
        const claim = await idempotency.claim(input.userId, input.idempotencyKey, input.requestHash);
        if (claim.kind !== 'claimed') throw new ClaimLost(claim.kind);
        const reserved = await writer.reserve(input.priced.lines.length);
        const order = contractOrder(input, reserved);
        const event = orderEvents.created(order, { correlationId: input.correlationId });
        await writer.insert(order, input.priced, event, {
          userId: input.userId,
          key: input.idempotencyKey,
          token: claim.token,
        });
      },
      close: () => pool.end(),
    };
  },
};

const pgInteractive: Variant<OrderInput> = {
  key: 'pg',
  label: 'pg: interactive transaction',
  async open(url, poolSize) {
    const pool: Pool = createPgPool(url, { max: poolSize, logger });
    const idempotency = createIdempotencyRepository(pool, DEADLINE_MS);
    return {
      async run(input) {
        const claim = await idempotency.claim(input.userId, input.idempotencyKey, input.requestHash);
        if (claim.kind !== 'claimed') throw new ClaimLost(claim.kind);
        const { priced } = input;
        await inTransaction(pool, async (client) => {
          const head = await client.query<{ id: number; created_at: Date }>({
            name: 'bench_order_insert',
            text: `INSERT INTO orders (user_id, status, total_amount) VALUES ($1, 'pending', $2::numeric)
                   RETURNING id, created_at`,
            values: [input.userId, priced.totalAmount],
          });
          const { id, created_at: createdAt } = head.rows[0]!;
          const items = await client.query<{ id: number; product_id: number }>({
            name: 'bench_order_items_insert',
            text: `INSERT INTO order_items (order_id, product_id, product_name, product_price, quantity, subtotal)
                   SELECT $1, * FROM unnest($2::int[], $3::text[], $4::numeric[], $5::int[], $6::numeric[])
                   RETURNING id, product_id`,
            values: [
              id,
              priced.lines.map((line) => line.productId),
              priced.lines.map((line) => line.productName),
              priced.lines.map((line) => line.productPrice),
              priced.lines.map((line) => line.quantity),
              priced.lines.map((line) => line.subtotal),
            ],
          });
          const itemIds = new Map(items.rows.map((row) => [row.product_id, row.id]));
          const order = contractOrder(input, {
            id,
            itemIds: priced.lines.map((line) => itemIds.get(line.productId)!),
            createdAt,
          });
          await orderEvents.append(pgExecutor(client), [
            orderEvents.created(order, { correlationId: input.correlationId }),
          ]);
          const done = await client.query({
            name: 'bench_claim_done',
            text: `UPDATE idempotency_keys
                      SET status = 'done', response_status = 201, response_body = $3::jsonb, order_id = $4
                    WHERE user_id = $1 AND key = $2 AND status = 'in_flight' AND created_at = $5::timestamptz`,
            values: [input.userId, input.idempotencyKey, JSON.stringify(order), id, claim.token],
          });
          if (done.rowCount !== 1) throw new ClaimLost('taken over');
        });
      },
      close: () => pool.end(),
    };
  },
};

/**
 * The claim's token is `created_at` to the microsecond; Prisma's DateTime is a JS Date
 * (milliseconds), so neither the claim nor its completion can go through the typed API without
 * losing the token — both are raw SQL here, as they would be in the service.
 */
const prismaClaim = (prisma: Prisma, input: OrderInput) =>
  prisma.$queryRaw<{ token: string }[]>`
    INSERT INTO idempotency_keys (user_id, key, request_hash, status, created_at)
    VALUES (${input.userId}, ${input.idempotencyKey}, ${input.requestHash}, 'in_flight', clock_timestamp())
    ON CONFLICT DO NOTHING RETURNING created_at::text AS token`;

const prismaInteractive: Variant<OrderInput> = {
  key: 'prisma',
  label: 'Prisma: interactive $transaction',
  async open(url, poolSize) {
    const prisma = createPrisma(url, poolSize, logger);
    return {
      async run(input) {
        const token = claimed((await prismaClaim(prisma, input))[0]?.token);
        await prisma.$transaction(async (tx) => {
          const row = await tx.order.create({
            data: {
              userId: input.userId,
              totalAmount: input.priced.totalAmount,
              items: {
                create: input.priced.lines.map((line) => ({
                  productId: line.productId,
                  productName: line.productName,
                  productPrice: line.productPrice,
                  quantity: line.quantity,
                  subtotal: line.subtotal,
                })),
              },
            },
            include: { items: true },
          });
          const order = toOrder(row);
          await orderEvents.append(tx, [orderEvents.created(order, { correlationId: input.correlationId })]);
          const done = await tx.$executeRaw`
            UPDATE idempotency_keys
               SET status = 'done', response_status = 201, response_body = ${JSON.stringify(order)}::jsonb,
                   order_id = ${order.id}
             WHERE user_id = ${input.userId} AND key = ${input.idempotencyKey} AND status = 'in_flight'
               AND created_at = ${token}::timestamptz`;
          if (done !== 1) throw new ClaimLost('taken over');
        }, PRISMA_TX);
      },
      close: () => prisma.$disconnect(),
    };
  },
};

/**
 * Prisma written for fewer round trips: the order row and then its items with
 * `createManyAndReturn`, selecting only the ids — the statements pg and Kysely send — instead of a
 * nested create whose `include` reads order and items back. `prepared`: with the adapter's
 * statement names, so Postgres prepares each statement once per connection as today's `pg` code does.
 */
const prismaFlat = (prepared: boolean): Variant<OrderInput> => ({
  key: prepared ? 'prisma-prepared' : 'prisma-flat',
  label: `Prisma: interactive $transaction, create + createManyAndReturn${prepared ? ', prepared statements' : ''}`,
  async open(url, poolSize) {
    const prisma = prepared ? createPreparedPrisma(url, poolSize) : createPrisma(url, poolSize, logger);
    return {
      async run(input) {
        const token = claimed((await prismaClaim(prisma, input))[0]?.token);
        const { priced } = input;
        await prisma.$transaction(async (tx) => {
          const head = await tx.order.create({
            data: { userId: input.userId, totalAmount: priced.totalAmount },
            select: { id: true, createdAt: true },
          });
          const items = await tx.orderItem.createManyAndReturn({
            data: priced.lines.map((line) => ({
              orderId: head.id,
              productId: line.productId,
              productName: line.productName,
              productPrice: line.productPrice,
              quantity: line.quantity,
              subtotal: line.subtotal,
            })),
            select: { id: true, productId: true },
          });
          const itemIds = new Map(items.map((row) => [row.productId, row.id]));
          const order = contractOrder(input, {
            id: head.id,
            itemIds: priced.lines.map((line) => itemIds.get(line.productId)!),
            createdAt: head.createdAt,
          });
          await orderEvents.append(tx, [orderEvents.created(order, { correlationId: input.correlationId })]);
          const done = await tx.$executeRaw`
            UPDATE idempotency_keys
               SET status = 'done', response_status = 201, response_body = ${JSON.stringify(order)}::jsonb,
                   order_id = ${order.id}
             WHERE user_id = ${input.userId} AND key = ${input.idempotencyKey} AND status = 'in_flight'
               AND created_at = ${token}::timestamptz`;
          if (done !== 1) throw new ClaimLost('taken over');
        }, PRISMA_TX);
      },
      close: () => prisma.$disconnect(),
    };
  },
});

/**
 * Prisma's batch form: the ids first (as today), then one `$transaction([...])` of the nested
 * create, the outbox row and the claim's completion; a lost claim fails its statement (1 / 0), the
 * only way a batch can roll back on a condition.
 */
const prismaBatch: Variant<OrderInput> = {
  key: 'prisma-batch',
  label: 'Prisma: ids, then batch $transaction([...])',
  async open(url, poolSize) {
    const prisma = createPrisma(url, poolSize, logger);
    return {
      async run(input) {
        const token = claimed((await prismaClaim(prisma, input))[0]?.token);
        const { lines } = input.priced;
        const [ids] = await prisma.$queryRaw<{ id: number; item_ids: number[]; now: Date }[]>`
          SELECT nextval('orders_id_seq')::int AS id,
                 ARRAY(SELECT nextval('order_items_id_seq')::int FROM generate_series(1, ${lines.length}::int)) AS item_ids,
                 now() AS now`;
        const order = contractOrder(input, { id: ids!.id, itemIds: ids!.item_ids, createdAt: ids!.now });
        const event = orderEvents.created(order, { correlationId: input.correlationId });
        await prisma.$transaction([
          prisma.order.create({
            data: {
              id: order.id,
              userId: input.userId,
              totalAmount: input.priced.totalAmount,
              createdAt: ids!.now,
              updatedAt: ids!.now,
              items: {
                create: lines.map((line, index) => ({
                  id: ids!.item_ids[index]!,
                  productId: line.productId,
                  productName: line.productName,
                  productPrice: line.productPrice,
                  quantity: line.quantity,
                  subtotal: line.subtotal,
                })),
              },
            },
            select: { id: true },
          }),
          prisma.$executeRawUnsafe(
            `INSERT INTO outbox_events (${OUTBOX_COLUMNS}) VALUES (${outboxPlaceholders(1)})`,
            ...outboxRow(event, 'order'),
          ),
          prisma.$executeRaw`
            WITH k AS (
              UPDATE idempotency_keys
                 SET status = 'done', response_status = 201, response_body = ${JSON.stringify(order)}::jsonb,
                     order_id = ${order.id}
               WHERE user_id = ${input.userId} AND key = ${input.idempotencyKey} AND status = 'in_flight'
                 AND created_at = ${token}::timestamptz
              RETURNING 1)
            SELECT 1 / (SELECT count(*)::int FROM k)`,
        ]);
      },
      close: () => prisma.$disconnect(),
    };
  },
};

const kysely: Variant<OrderInput> = {
  key: 'kysely',
  label: 'Kysely: interactive transaction',
  async open(url, poolSize) {
    const k = await loadKysely();
    const { sql } = k;
    const db = new k.Kysely<OrderTables>({
      dialect: new k.PostgresDialect({ pool: createPgPool(url, { max: poolSize, logger }) }),
    });
    return {
      async run(input) {
        const claim = await db
          .insertInto('idempotency_keys')
          .values({
            user_id: input.userId,
            key: input.idempotencyKey,
            request_hash: input.requestHash,
            status: 'in_flight',
            created_at: sql<Date>`clock_timestamp()`,
          })
          .onConflict((conflict) => conflict.doNothing())
          .returning(sql<string>`created_at::text`.as('token'))
          .executeTakeFirst();
        const token = claimed(claim?.token);
        const { priced } = input;
        await db.transaction().execute(async (trx) => {
          const head = await trx
            .insertInto('orders')
            .values({ user_id: input.userId, status: 'pending', total_amount: priced.totalAmount })
            .returning(['id', 'created_at'])
            .executeTakeFirstOrThrow();
          const items = await trx
            .insertInto('order_items')
            .values(
              priced.lines.map((line) => ({
                order_id: head.id,
                product_id: line.productId,
                product_name: line.productName,
                product_price: line.productPrice,
                quantity: line.quantity,
                subtotal: line.subtotal,
              })),
            )
            .returning(['id', 'product_id'])
            .execute();
          const itemIds = new Map(items.map((row) => [row.product_id, row.id]));
          const order = contractOrder(input, {
            id: head.id,
            itemIds: priced.lines.map((line) => itemIds.get(line.productId)!),
            createdAt: head.created_at,
          });
          await orderEvents.append(kyselyExecutor(k, trx), [
            orderEvents.created(order, { correlationId: input.correlationId }),
          ]);
          const done = await trx
            .updateTable('idempotency_keys')
            .set({
              status: 'done',
              response_status: 201,
              response_body: JSON.stringify(order),
              order_id: head.id,
            })
            .where('user_id', '=', input.userId)
            .where('key', '=', input.idempotencyKey)
            .where('status', '=', 'in_flight')
            .where('created_at', '=', sql<Date>`${token}::timestamptz`)
            .executeTakeFirst();
          if (done.numUpdatedRows !== 1n) throw new ClaimLost('taken over');
        });
      },
      close: () => db.destroy(),
    };
  },
};

export const orderExperiment: Experiment<OrderInput> = {
  key: 'order',
  title: 'Place an order',
  schema: 'order-service',
  inputs: orderInputs,
  check: checkOrders,
  variants: [
    today,
    pgInteractive,
    prismaInteractive,
    prismaFlat(false),
    prismaFlat(true),
    prismaBatch,
    kysely,
  ],
};
