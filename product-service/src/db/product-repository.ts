import type { Product } from '@shop/contracts';
import { sql, type Selectable } from 'kysely';
import type { Product as ProductRow } from '../generated/database';
import type { Db } from './database';

/** The one mapper from a database row to the contract's Product. */
export const toProduct = (row: Selectable<ProductRow>): Product => ({
  id: row.id,
  name: row.name,
  description: row.description,
  // numeric(10,2) arrives as text: always two places, never a float.
  price: row.price,
  stock: row.stock,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
});

export interface NewProduct {
  name: string;
  description: string | null;
  price: string;
  stock: number;
}

export type ProductChanges = Partial<NewProduct>;

const COLUMNS = ['id', 'name', 'description', 'price', 'stock', 'created_at', 'updated_at'] as const;

export function createProductRepository(db: Db) {
  /** Every product, or those with the given ids. */
  const products = (ids: number[] | undefined) =>
    db.selectFrom('products').$if(ids !== undefined, (query) => query.where('id', 'in', ids!));

  return {
    async list(filter: {
      ids?: number[];
      limit: number;
      offset: number;
    }): Promise<{ items: Product[]; total: number }> {
      if (filter.ids?.length === 0) return { items: [], total: 0 };
      // One round trip for a page: the total rides on every row (a window over the rows before
      // LIMIT). Only a page past the end has no row to carry it and needs a second query.
      const rows = await products(filter.ids)
        .select(COLUMNS)
        .select((eb) => eb.fn.countAll<string>().over().as('total'))
        .orderBy('id')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute();
      if (rows.length) return { items: rows.map(toProduct), total: Number(rows[0].total) };
      if (filter.offset === 0) return { items: [], total: 0 };
      const { total } = await products(filter.ids)
        .select((eb) => eb.fn.countAll<string>().as('total'))
        .executeTakeFirstOrThrow();
      return { items: [], total: Number(total) };
    },

    async findById(id: number): Promise<Product | undefined> {
      const row = await db.selectFrom('products').select(COLUMNS).where('id', '=', id).executeTakeFirst();
      return row && toProduct(row);
    },

    async create(product: NewProduct): Promise<Product> {
      return toProduct(
        await db.insertInto('products').values(product).returning(COLUMNS).executeTakeFirstOrThrow(),
      );
    },

    /**
     * Changes only the given fields: Kysely leaves a column whose value is undefined out of the SET
     * list (a `description: null` is given, and clears it). Undefined when there is no such product.
     */
    async update(id: number, changes: ProductChanges): Promise<Product | undefined> {
      const row = await db
        .updateTable('products')
        .set({ ...changes, updated_at: sql`now()` })
        .where('id', '=', id)
        .returning(COLUMNS)
        .executeTakeFirst();
      return row && toProduct(row);
    },
  };
}

export type ProductRepository = ReturnType<typeof createProductRepository>;
