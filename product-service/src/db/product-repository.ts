import type { Product } from '@shop/contracts';
import type { Db } from './prisma';
import { Prisma } from '../generated/prisma/client';

type ProductRow = {
  id: number;
  name: string;
  description: string | null;
  price: Prisma.Decimal;
  stock: number;
  createdAt: Date;
  updatedAt: Date;
};

/** The one mapper from a database row to the contract's Product. */
export const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  name: row.name,
  description: row.description,
  price: row.price.toFixed(2),
  stock: row.stock,
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
});

export interface NewProduct {
  name: string;
  description: string | null;
  price: string;
  stock: number;
}

export type ProductChanges = Partial<NewProduct>;

export function createProductRepository(db: Db) {
  return {
    async list(filter: { ids?: number[]; limit: number; offset: number }) {
      const where = filter.ids ? { id: { in: filter.ids } } : {};
      const [rows, total] = await db.$transaction([
        db.product.findMany({ where, orderBy: { id: 'asc' }, take: filter.limit, skip: filter.offset }),
        db.product.count({ where }),
      ]);
      return { items: rows.map(toProduct), total };
    },

    async findById(id: number): Promise<Product | undefined> {
      const row = await db.product.findUnique({ where: { id } });
      return row ? toProduct(row) : undefined;
    },

    async create(product: NewProduct): Promise<Product> {
      return toProduct(await db.product.create({ data: product }));
    },

    /** Returns undefined when there is no such product. */
    async update(id: number, changes: ProductChanges): Promise<Product | undefined> {
      try {
        return toProduct(await db.product.update({ where: { id }, data: changes }));
      } catch (error) {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025') return undefined;
        throw error;
      }
    },
  };
}

export type ProductRepository = ReturnType<typeof createProductRepository>;
