import type { Product } from '@shop/contracts';
import type { Pool } from './pool';

type ProductRow = {
  id: number;
  name: string;
  description: string | null;
  /** numeric(10,2) as text: always two places, never a float. */
  price: string;
  stock: number;
  created_at: Date;
  updated_at: Date;
};

/** The one mapper from a database row to the contract's Product. */
export const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  name: row.name,
  description: row.description,
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

const COLUMNS = 'id, name, description, price::text AS price, stock, created_at, updated_at';

// One round trip per request. The total rides on every row; only a page past the end (no rows)
// needs a second query for it.
const LIST_BY_IDS = {
  name: 'products-list-ids',
  text: `SELECT ${COLUMNS}, count(*) OVER ()::int AS total FROM products WHERE id = ANY($1::int[]) ORDER BY id LIMIT $2 OFFSET $3`,
};
const COUNT_BY_IDS = { name: 'products-count-ids', text: 'SELECT count(*)::int AS total FROM products WHERE id = ANY($1::int[])' };
const LIST_ALL = {
  name: 'products-list',
  text: `SELECT ${COLUMNS}, (SELECT count(*)::int FROM products) AS total FROM products ORDER BY id LIMIT $1 OFFSET $2`,
};
const COUNT_ALL = { name: 'products-count', text: 'SELECT count(*)::int AS total FROM products' };
const BY_ID = { name: 'products-by-id', text: `SELECT ${COLUMNS} FROM products WHERE id = $1` };
const INSERT = `INSERT INTO products (name, description, price, stock) VALUES ($1, $2, $3::numeric, $4) RETURNING ${COLUMNS}`;

/** PATCH-able columns and how their parameter is cast. */
const CHANGEABLE: Record<keyof NewProduct, string> = { name: '', description: '', price: '::numeric', stock: '::int' };

export function createProductRepository(pool: Pool) {
  return {
    async list(filter: { ids?: number[]; limit: number; offset: number }): Promise<{ items: Product[]; total: number }> {
      const { rows } = filter.ids
        ? await pool.query<ProductRow & { total: number }>({ ...LIST_BY_IDS, values: [filter.ids, filter.limit, filter.offset] })
        : await pool.query<ProductRow & { total: number }>({ ...LIST_ALL, values: [filter.limit, filter.offset] });
      if (rows.length) return { items: rows.map(toProduct), total: rows[0].total };
      if (filter.offset === 0 || (filter.ids && filter.ids.length === 0)) return { items: [], total: 0 };
      const count = filter.ids
        ? await pool.query<{ total: number }>({ ...COUNT_BY_IDS, values: [filter.ids] })
        : await pool.query<{ total: number }>(COUNT_ALL);
      return { items: [], total: count.rows[0].total };
    },

    async findById(id: number): Promise<Product | undefined> {
      const { rows } = await pool.query<ProductRow>({ ...BY_ID, values: [id] });
      return rows.length ? toProduct(rows[0]) : undefined;
    },

    async create(product: NewProduct): Promise<Product> {
      const { rows } = await pool.query<ProductRow>(INSERT, [product.name, product.description, product.price, product.stock]);
      return toProduct(rows[0]);
    },

    /** Returns undefined when there is no such product. */
    async update(id: number, changes: ProductChanges): Promise<Product | undefined> {
      const values: unknown[] = [id];
      const sets = (Object.keys(CHANGEABLE) as (keyof NewProduct)[])
        .filter((column) => changes[column] !== undefined)
        .map((column) => `${column} = $${values.push(changes[column])}${CHANGEABLE[column]}`);
      const { rows } = await pool.query<ProductRow>(
        `UPDATE products SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`,
        values,
      );
      return rows.length ? toProduct(rows[0]) : undefined;
    },
  };
}

export type ProductRepository = ReturnType<typeof createProductRepository>;
