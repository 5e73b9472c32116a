import type { ListProductsQuery, ProductList } from '@shop/contracts';
import type { ProductRepository } from '../db/product-repository';

/** A page of the catalogue in id order; `ids` narrows it to those products (unknown ids are simply absent). */
export async function listProducts(
  products: ProductRepository,
  query: ListProductsQuery,
): Promise<ProductList> {
  const { items, total } = await products.list(query);
  return { items, total, limit: query.limit, offset: query.offset };
}
