import { Router } from 'express';
import { CreateProductBody, IdParam, ListProductsQuery, PatchProductBody } from '@shop/contracts';
import {
  authenticate,
  jsonBody,
  parseIdOr404,
  parseWith,
  requireAdmin,
  type TokenVerifier,
} from '@shop/platform';
import type { ProductRepository } from '../db/product-repository';
import { createProduct } from '../use-cases/create-product';
import { getProduct, productNotFound } from '../use-cases/get-product';
import { listProducts } from '../use-cases/list-products';
import { updateProduct } from '../use-cases/update-product';

/** /api/v1/products: reads are public, writes need an admin token (verified here, not trusted from the gateway). */
export function productRoutes(deps: { products: ProductRepository; tokens: TokenVerifier }): Router {
  const router = Router();
  const adminOnly = [authenticate(deps.tokens), requireAdmin];
  const idOf = (params: unknown) => parseIdOr404(IdParam, params, () => productNotFound()).id;

  router.get('/', async (req, res) => {
    const query = parseWith(ListProductsQuery, req.query, 'query');
    res.json(await listProducts(deps.products, query));
  });

  router.get('/:id', async (req, res) => {
    res.json(await getProduct(deps.products, idOf(req.params)));
  });

  router.post('/', ...adminOnly, ...jsonBody(), async (req, res) => {
    const product = await createProduct(deps.products, parseWith(CreateProductBody, req.body));
    res.status(201).location(`${req.baseUrl}/${product.id}`).json(product);
  });

  router.patch('/:id', ...adminOnly, ...jsonBody(), async (req, res) => {
    const id = idOf(req.params);
    res.json(await updateProduct(deps.products, id, parseWith(PatchProductBody, req.body)));
  });

  return router;
}
