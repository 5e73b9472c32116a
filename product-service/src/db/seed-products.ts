import { createDatabase, createPgPool, inTransaction } from '@shop/platform';
import { sql } from 'kysely';
import type { DB } from '../generated/database';
import type { Db } from './database';

/** The seed scenario of SPEC §4: fixed ids, so every build and the e2e suite can rely on them. */
export const SEED_PRODUCTS = [
  { id: 1, name: 'Wireless Mouse', price: '25.99', stock: 100 },
  { id: 2, name: 'Mechanical Keyboard', price: '153.50', stock: 50 },
  { id: 3, name: 'USB-C Hub', price: '49.99', stock: 5 },
] as const;

/**
 * Inserts the seed products that are missing and leaves existing ones alone (a product whose
 * stock orders have already consumed keeps that stock), then moves the id sequence past the
 * highest id so admin-created products never collide with the fixed ids. Safe to run any number of times.
 */
export async function seedProducts(db: Db): Promise<{ inserted: number }> {
  return inTransaction(db, async (tx) => {
    const inserted = await tx
      .insertInto('products')
      .values(SEED_PRODUCTS.map((product) => ({ ...product, description: null })))
      .onConflict((conflict) => conflict.column('id').doNothing())
      .returning('id')
      .execute();
    // Never moves the sequence back: ids already handed out stay behind it.
    await sql`
      SELECT setval(pg_get_serial_sequence('products', 'id'),
                    GREATEST((SELECT COALESCE(max(id), 1) FROM products),
                             (SELECT last_value FROM products_id_seq)))`.execute(tx);
    return { inserted: inserted.length };
  });
}

/** Seeds the database at `databaseUrl` (what `npm run seed` and the e2e suite call). */
export async function seedDatabase(databaseUrl: string): Promise<{ inserted: number }> {
  const db = createDatabase<DB>(createPgPool(databaseUrl, { max: 1 }));
  try {
    return await seedProducts(db);
  } finally {
    await db.destroy();
  }
}
