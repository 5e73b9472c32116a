import { Router, type Request, type Response } from 'express';
import {
  ChangeOrderStatusBody,
  CreateOrderBody,
  IdParam,
  ListOrdersQuery,
  RouteHealth,
} from '@shop/contracts';
import {
  AppError,
  authenticate,
  identityOf,
  jsonBody,
  parseIdOr404,
  parseWith,
  type Database,
  type TokenVerifier,
} from '@shop/platform';
import type { IdempotencyRepository } from '../db/idempotency-repository';
import type { OrderReader } from '../db/order-store';
import type { DB } from '../generated/database';
import type { ProductCatalogue } from '../http-clients/product-client';
import { changeOrderStatus } from '../use-cases/change-order-status';
import { getOrder, orderNotFound } from '../use-cases/get-order';
import { listOrders } from '../use-cases/list-orders';
import { placeOrder } from '../use-cases/place-order';
import type { EventContext } from '../messaging/order-events';

export interface OrderRoutesDeps {
  db: Database<DB>;
  orders: OrderReader;
  catalogue: ProductCatalogue;
  idempotency: IdempotencyRepository;
  tokens: TokenVerifier;
  /** ORDER_PENDING_TTL (seconds). */
  pendingTtlSeconds?: number;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
const orderUrl = (id: number) => `/api/v1/orders/${id}`;

const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

/** Events caused by a request carry its request id as correlation id, and its W3C traceparent if valid. */
function eventContextOf(req: Request, res: Response): EventContext {
  const traceparent = req.headers.traceparent;
  return {
    correlationId: String(res.locals.requestId),
    traceparent: typeof traceparent === 'string' && TRACEPARENT.test(traceparent) ? traceparent : null,
  };
}

function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
    throw new AppError(422, 'validation_error', 'The Idempotency-Key header is not valid.', {
      errors: [{ path: 'headers.idempotency-key', message: 'must be 1 to 200 visible ASCII characters' }],
    });
  }
  return key;
}

/** /api/v1/orders: parse with the contract, call one use case, map the result. */
export function orderRoutes(deps: OrderRoutesDeps): Router {
  const router = Router();

  // Public, and before /:id so "health" is never taken for an order id.
  router.get('/health', (_req, res) => {
    res.json(RouteHealth.parse({ status: 'ok', service: 'order-service' }));
  });

  router.use(authenticate(deps.tokens), jsonBody());

  router.post('/', async (req, res) => {
    const body = parseWith(CreateOrderBody, req.body);
    const result = await placeOrder(deps, {
      actor: identityOf(res),
      items: body.items,
      idempotencyKey: idempotencyKeyOf(req),
      context: eventContextOf(req, res),
    });
    if (result.replayed) {
      const stored = result.body as { id?: number };
      res.setHeader('Idempotent-Replayed', 'true');
      if (result.status === 201 && typeof stored.id === 'number') res.location(orderUrl(stored.id));
      res.status(result.status).json(result.body);
      return;
    }
    res.status(201).location(orderUrl(result.order.id)).json(result.order);
  });

  router.get('/', async (req, res) => {
    const query = parseWith(ListOrdersQuery, req.query, 'query');
    res.json(await listOrders(deps, identityOf(res), query));
  });

  router.get('/:id', async (req, res) => {
    const { id } = parseIdOr404(IdParam, req.params, () => orderNotFound(req.params.id));
    res.json(await getOrder(deps, identityOf(res), id));
  });

  router.patch('/:id/status', async (req, res) => {
    const { id } = parseIdOr404(IdParam, req.params, () => orderNotFound(req.params.id));
    const body = parseWith(ChangeOrderStatusBody, req.body);
    const order = await changeOrderStatus(deps, {
      actor: identityOf(res),
      orderId: id,
      status: body.status,
      reason: body.reason,
      context: eventContextOf(req, res),
    });
    res.json(order);
  });

  return router;
}
