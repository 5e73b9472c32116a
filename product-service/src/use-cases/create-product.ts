import type { CreateProductBody, Product } from '@shop/contracts';
import type { ProductRepository } from '../db/product-repository';

export async function createProduct(products: ProductRepository, body: CreateProductBody): Promise<Product> {
  return products.create({
    name: body.name,
    description: body.description,
    price: body.price,
    stock: body.stock,
  });
}
