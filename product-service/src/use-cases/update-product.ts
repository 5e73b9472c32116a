import type { PatchProductBody, Product } from '@shop/contracts';
import type { ProductRepository } from '../db/product-repository';
import { productNotFound } from './get-product';

/** Admin correction of name, description, price or stock; only the given fields change. */
export async function updateProduct(
  products: ProductRepository,
  id: number,
  changes: PatchProductBody,
): Promise<Product> {
  const product = await products.update(id, changes);
  if (!product) throw productNotFound(id);
  return product;
}
