import { createPrismaClient, type Db } from './prisma';

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
  return db.$transaction(async (tx) => {
    let inserted = 0;
    for (const product of SEED_PRODUCTS) {
      inserted += await tx.$executeRaw`
        INSERT INTO products (id, name, description, price, stock)
        VALUES (${product.id}, ${product.name}, NULL, ${product.price}::numeric, ${product.stock})
        ON CONFLICT (id) DO NOTHING`;
    }
    await tx.$executeRaw`
      SELECT setval(pg_get_serial_sequence('products', 'id'),
                    GREATEST((SELECT COALESCE(max(id), 1) FROM products),
                             (SELECT last_value FROM products_id_seq)))`;
    return { inserted };
  });
}

/** Seeds the database at `databaseUrl` (what `npm run seed` and the e2e suite call). */
export async function seedDatabase(databaseUrl: string): Promise<{ inserted: number }> {
  const db = createPrismaClient(databaseUrl);
  try {
    return await seedProducts(db);
  } finally {
    await db.$disconnect();
  }
}
