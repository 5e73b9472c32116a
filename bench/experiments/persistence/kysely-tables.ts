import type { SqlExecutor } from '@shop/platform';
import type { ColumnType, Generated, Kysely, Transaction } from 'kysely' with { 'resolution-mode': 'import' };

/*
 * Kysely's types for the tables the experiment writes, by hand. In a service they would be
 * generated from schema.prisma by the `prisma-kysely` generator (a second `generator` block, run by
 * the same `prisma generate`), so schema.prisma stays the one source. Written here in that style
 * (columns by their @map names, defaults as `Generated`) — not its actual output, which was not
 * run (the package was not installed). Kysely is ESM-only and the repo
 * compiles as node16 CommonJS, so its values are loaded with `import()` and its types imported
 * with `resolution-mode` (a service adopting it would move to `module: node20`, where
 * `require(esm)` type-checks).
 */

/** numeric(10,2): node-postgres returns it as a string; we write strings too (never floats). */
type Money = ColumnType<string, string, string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
/** jsonb with a default, written as a JSON string (node-postgres sends it as text; Postgres parses it). */
type JsonTextWithDefault = ColumnType<unknown, string | undefined, string>;

export interface OrderTables {
  orders: {
    id: Generated<number>;
    user_id: number;
    status: Generated<string>;
    total_amount: Money;
    cancel_reason: string | null;
    version: Generated<number>;
    created_at: CreatedAt;
    updated_at: UpdatedAt;
  };
  order_items: {
    id: Generated<number>;
    order_id: number;
    product_id: number;
    product_name: string;
    product_price: Money;
    quantity: number;
    subtotal: Money;
  };
  idempotency_keys: {
    user_id: number;
    key: string;
    request_hash: string;
    status: Generated<string>;
    response_status: number | null;
    response_body: ColumnType<unknown, string | null | undefined, string | null>;
    order_id: number | null;
    created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  };
}

export interface ProductTables {
  products: {
    id: Generated<number>;
    name: string;
    description: string | null;
    price: Money;
    stock: number;
    created_at: CreatedAt;
    updated_at: UpdatedAt;
  };
  stock_reservations: {
    order_id: number;
    status: string;
    items: JsonTextWithDefault;
    created_at: CreatedAt;
    updated_at: UpdatedAt;
  };
  processed_messages: {
    consumer: string;
    event_id: string;
    processed_at: CreatedAt;
  };
}

export type KyselyModule = typeof import('kysely', { with: { 'resolution-mode': 'import' } });

/** Kysely's module, loaded once (ESM-only: see the header). */
export const loadKysely = (): Promise<KyselyModule> => import('kysely');

/**
 * The platform's outbox and inbox helpers take a `SqlExecutor`; this runs their SQL on a Kysely
 * transaction (a service adopting Kysely would get this adapter from the platform).
 */
export function kyselyExecutor<DB>(kysely: KyselyModule, db: Kysely<DB> | Transaction<DB>): SqlExecutor {
  return {
    $executeRawUnsafe: async (query, ...values) =>
      Number((await db.executeQuery(kysely.CompiledQuery.raw(query, values))).numAffectedRows ?? 0n),
  };
}
