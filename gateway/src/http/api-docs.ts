import { Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { readOpenApiDocument } from '@shop/contracts';
import { onlyMethods } from '@shop/platform';

/** `/openapi.json` (OpenAPI 3.1: contracts/openapi.json, generated from the zod contracts) and Swagger UI at `/docs`. */
export function apiDocs(): Router {
  const document = readOpenApiDocument();
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  // Swagger UI's page answers any method it is given; only reads are meant (others: 405).
  // `validatorUrl: null`: on any host but localhost Swagger UI would otherwise load a badge from
  // validator.swagger.io — a third-party call our CSP blocks (and one a closed network cannot make).
  router.use(
    '/docs',
    onlyMethods('GET', 'HEAD'),
    swaggerUi.serve,
    swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.json', validatorUrl: null } }),
  );
  return router;
}
