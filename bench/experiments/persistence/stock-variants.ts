import { PrismaPg } from '@prisma/adapter-pg';
import type { AnyEvent } from '@shop/contracts';
import {
  appendToOutbox,
  createLogger,
  createPgPool,
  inTransaction,
  pgExecutor,
  recordInboxOnce,
  type HandlerOutcome,
} from '@shop/platform';
import {
  consolidateLines,
  decideReservation,
  type StockLine,
} from '../../../product-service/src/domain/reserve-stock';
import { PrismaClient } from '../../../product-service/src/generated/prisma/client';
import { reserveStock } from '../../../product-service/src/use-cases/reserve-stock';
import { inventoryEvent, type SagaCause } from '../../../product-service/src/use-cases/saga-cause';
import type { Experiment, Variant } from './experiment';
import { kyselyExecutor, loadKysely, type ProductTables } from './kysely-tables';
import { preparedStatementNames } from './prisma-statements';
import { checkStock, CONSUMER, seedProducts, stockInputs, type StockInput } from './stock-inputs';

/*
 * Reserving an order's stock on OrderCreated. "Today" is the service's own use case (one CTE that
 * decides in SQL, the TypeScript rule only on a shortfall). The others read as the rule:
 *   BEGIN + the order's advisory lock (as today: a cancel and a create of one order run one after
 *   the other); the inbox row (a redelivery stops here); load the reservation (one exists: stop);
 *   lock the products FOR UPDATE in id order; decide in TypeScript (`decideReservation`); write the
 *   decision (one UPDATE per line, the reservation row); append the event; COMMIT.
 * All three write the same statements, so the difference is the library; the inbox and outbox
 * SQL is the platform's in all three (through each library's raw-execution call).
 */

const logger = createLogger('bench-persistence', 'error');
const ADVISORY_NAMESPACE = 8001;
const AGGREGATE_TYPE = 'stock_reservation';
const PRISMA_TX = { maxWait: 10_000, timeout: 15_000 };

const causeOf = (input: StockInput): SagaCause => ({
  consumer: CONSUMER,
  eventId: input.eventId,
  correlationId: input.correlationId,
  traceparent: null,
});

interface Decided {
  status: 'reserved' | 'rejected';
  /** Stock to take, per product (empty when rejected). */
  take: StockLine[];
  event: AnyEvent;
}

/** The pure step all shaped variants share: the rule on the locked stock, and what to write for it. */
function decide(input: StockInput, lines: StockLine[], stock: ReadonlyMap<number, number>): Decided {
  const decision = decideReservation(lines, stock);
  const cause = causeOf(input);
  if (decision.kind === 'reserve') {
    return {
      status: 'reserved',
      take: decision.lines,
      event: inventoryEvent(cause, {
        type: 'StockReserved',
        orderId: input.orderId,
        sequence: 1,
        data: { order_id: input.orderId, items: lines },
      }),
    };
  }
  return {
    status: 'rejected',
    take: [],
    event: inventoryEvent(cause, {
      type: 'StockReservationFailed',
      orderId: input.orderId,
      sequence: 1,
      data: { order_id: input.orderId, reason: decision.reason, shortages: decision.shortages },
    }),
  };
}

const today: Variant<StockInput> = {
  key: 'today',
  label: 'pg: one CTE statement (today)',
  async open(url, poolSize) {
    const pool = createPgPool(url, { max: poolSize, logger });
    return {
      run: (input) => reserveStock(pool, { orderId: input.orderId, items: input.items }, causeOf(input)),
      close: () => pool.end(),
    };
  },
};

const pgInteractive: Variant<StockInput> = {
  key: 'pg',
  label: 'pg: lock, load, decide, write, append',
  async open(url, poolSize) {
    const pool = createPgPool(url, { max: poolSize, logger });
    return {
      run: (input) =>
        inTransaction(
          pool,
          async (client): Promise<HandlerOutcome> => {
            const tx = pgExecutor(client);
            if (!(await recordInboxOnce(tx, CONSUMER, input.eventId))) return 'duplicate';
            const existing = await client.query({
              name: 'bench_reservation_load',
              text: 'SELECT status FROM stock_reservations WHERE order_id = $1',
              values: [input.orderId],
            });
            if (existing.rowCount) return 'ignored';
            const lines = consolidateLines(input.items);
            const locked = await client.query<{ id: number; stock: number }>({
              name: 'bench_products_lock',
              text: 'SELECT id, stock FROM products WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE',
              values: [lines.map((line) => line.product_id)],
            });
            const decided = decide(input, lines, new Map(locked.rows.map((row) => [row.id, row.stock])));
            for (const line of decided.take) {
              await client.query({
                name: 'bench_stock_take',
                text: 'UPDATE products SET stock = stock - $2, updated_at = now() WHERE id = $1',
                values: [line.product_id, line.quantity],
              });
            }
            await client.query({
              name: 'bench_reservation_insert',
              text: 'INSERT INTO stock_reservations (order_id, status, items) VALUES ($1, $2, $3::jsonb)',
              values: [input.orderId, decided.status, JSON.stringify(lines)],
            });
            await appendToOutbox(tx, [decided.event], { aggregateType: AGGREGATE_TYPE });
            return 'applied';
          },
          { advisoryLock: [ADVISORY_NAMESPACE, input.orderId] },
        ),
      close: () => pool.end(),
    };
  },
};

/** `prepared`: with the adapter's statement names, so Postgres prepares each statement once per connection. */
const prismaInteractive = (prepared: boolean): Variant<StockInput> => ({
  key: prepared ? 'prisma-prepared' : 'prisma',
  label: `Prisma: interactive $transaction, $queryRaw FOR UPDATE${prepared ? ', prepared statements' : ''}`,
  async open(url, poolSize) {
    const pool = createPgPool(url, { max: poolSize, logger });
    const prisma = new PrismaClient({
      adapter: new PrismaPg(pool, {
        disposeExternalPool: true,
        ...(prepared ? { statementNameGenerator: preparedStatementNames() } : {}),
      }),
    });
    return {
      run: (input) =>
        prisma.$transaction(async (tx): Promise<HandlerOutcome> => {
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADVISORY_NAMESPACE}::int, ${input.orderId}::int)`;
          if (!(await recordInboxOnce(tx, CONSUMER, input.eventId))) return 'duplicate';
          const existing = await tx.stockReservation.findUnique({
            where: { orderId: input.orderId },
            select: { status: true },
          });
          if (existing) return 'ignored';
          const lines = consolidateLines(input.items);
          const ids = lines.map((line) => line.product_id);
          const locked = await tx.$queryRaw<{ id: number; stock: number }[]>`
            SELECT id, stock FROM products WHERE id = ANY(${ids}::int[]) ORDER BY id FOR UPDATE`;
          const decided = decide(input, lines, new Map(locked.map((row) => [row.id, row.stock])));
          for (const line of decided.take) {
            await tx.product.update({
              where: { id: line.product_id },
              data: { stock: { decrement: line.quantity } },
              select: { id: true },
            });
          }
          await tx.stockReservation.create({
            data: {
              orderId: input.orderId,
              status: decided.status,
              items: lines.map((line) => ({ ...line })),
            },
            select: { orderId: true },
          });
          await appendToOutbox(tx, [decided.event], { aggregateType: AGGREGATE_TYPE });
          return 'applied';
        }, PRISMA_TX),
      close: () => prisma.$disconnect(),
    };
  },
});

const kysely: Variant<StockInput> = {
  key: 'kysely',
  label: 'Kysely: lock, load, decide, write, append',
  async open(url, poolSize) {
    const k = await loadKysely();
    const { sql } = k;
    const db = new k.Kysely<ProductTables>({
      dialect: new k.PostgresDialect({ pool: createPgPool(url, { max: poolSize, logger }) }),
    });
    return {
      run: (input) =>
        db.transaction().execute(async (trx): Promise<HandlerOutcome> => {
          await sql`SELECT pg_advisory_xact_lock(${ADVISORY_NAMESPACE}::int, ${input.orderId}::int)`.execute(
            trx,
          );
          const tx = kyselyExecutor(k, trx);
          if (!(await recordInboxOnce(tx, CONSUMER, input.eventId))) return 'duplicate';
          const existing = await trx
            .selectFrom('stock_reservations')
            .select('status')
            .where('order_id', '=', input.orderId)
            .executeTakeFirst();
          if (existing) return 'ignored';
          const lines = consolidateLines(input.items);
          const locked = await trx
            .selectFrom('products')
            .select(['id', 'stock'])
            .where(
              'id',
              'in',
              lines.map((line) => line.product_id),
            )
            .orderBy('id')
            .forUpdate()
            .execute();
          const decided = decide(input, lines, new Map(locked.map((row) => [row.id, row.stock])));
          for (const line of decided.take) {
            await trx
              .updateTable('products')
              .set((eb) => ({ stock: eb('stock', '-', line.quantity), updated_at: sql<Date>`now()` }))
              .where('id', '=', line.product_id)
              .execute();
          }
          await trx
            .insertInto('stock_reservations')
            .values({ order_id: input.orderId, status: decided.status, items: JSON.stringify(lines) })
            .execute();
          await appendToOutbox(tx, [decided.event], { aggregateType: AGGREGATE_TYPE });
          return 'applied';
        }),
      close: () => db.destroy(),
    };
  },
};

export const stockExperiment: Experiment<StockInput> = {
  key: 'stock',
  title: 'Reserve stock',
  schema: 'product-service',
  inputs: stockInputs,
  seed: seedProducts,
  check: checkStock,
  variants: [today, pgInteractive, prismaInteractive(false), prismaInteractive(true), kysely],
};
