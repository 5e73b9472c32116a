import { z } from 'zod';
import { Id, Money, PageQuery, Text, Timestamp, listOf } from './common';

export const Product = z.object({
  id: Id,
  name: z.string(),
  description: z.string().nullable(),
  price: Money,
  stock: z.number().int().nonnegative(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Product = z.infer<typeof Product>;

export const MAX_PRICE = '99999999.99';

/**
 * A price in a request: the canonical decimal string ("25.99") or a JSON number with at most two
 * decimal places (25.99). Either way it leaves as the canonical string, so no float reaches the database.
 */
export const PriceInput = z
  .union([z.string(), z.number()])
  .transform((value) => (typeof value === 'number' ? String(value) : value))
  .pipe(
    z
      .string()
      .regex(/^\d{1,8}(\.\d{1,2})?$/, 'must be a positive amount with at most two decimal places')
      .refine((value) => Number(value) > 0, 'must be greater than 0'),
  );

const Name = Text.trim().min(1).max(200);
const Description = Text.max(2000).nullable();
const Stock = z.number().int().min(0).max(2_147_483_647);

export const CreateProductBody = z.strictObject({
  name: Name,
  description: Description.optional().default(null),
  price: PriceInput,
  stock: Stock.default(0),
});
export type CreateProductBody = z.infer<typeof CreateProductBody>;

export const PatchProductBody = z
  .strictObject({
    name: Name.optional(),
    description: Description.optional(),
    price: PriceInput.optional(),
    stock: Stock.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'at least one field must be given' });
export type PatchProductBody = z.infer<typeof PatchProductBody>;

export const MAX_IDS_PER_LOOKUP = 100;

export const ListProductsQuery = PageQuery.extend({
  ids: z
    .string()
    .regex(/^[1-9]\d{0,9}(,[1-9]\d{0,9})*$/, 'must be a comma-separated list of positive integers')
    .transform((value) => [...new Set(value.split(',').map(Number))])
    .pipe(z.array(Id).max(MAX_IDS_PER_LOOKUP))
    .optional(),
});
export type ListProductsQuery = z.infer<typeof ListProductsQuery>;

export const ProductList = listOf(Product);
export type ProductList = z.infer<typeof ProductList>;
