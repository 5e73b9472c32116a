import type { Product } from '@shop/contracts';
import { AppError } from '@shop/platform';
import type { ProductRepository } from '../db/product-repository';

export const productNotFound = (id?: number) =>
  AppError.notFound(
    'product_not_found',
    id === undefined ? 'No such product.' : `Product ${id} does not exist.`,
  );

export async function getProduct(products: ProductRepository, id: number): Promise<Product> {
  const product = await products.findById(id);
  if (!product) throw productNotFound(id);
  return product;
}
