import { Router, type Express, type RequestHandler } from 'express';
import { AppError } from './app-error';

/** The parts of express 5's router layers read here (router 2.x keeps them on every layer). */
interface LayerLike {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean | undefined> };
  handle?: { stack?: LayerLike[] };
}

/**
 * The 405 fallback for a finished app: mount it after every route and before the 404 handler.
 * It reads the routes the app (and every router mounted in it) serves, and answers a request
 * whose path one of them matches, but not its method, with 405 method_not_allowed and an `Allow`
 * listing the methods that path does answer — collected by express itself matching each route's
 * path, so the list is the union over every route that takes the path (`/orders/health` and
 * `/orders/:id`). OPTIONS gets the list with 200. A mounted router's own guards (authentication)
 * ran before the request got here; a path no route matches falls through to the 404.
 */
export function methodNotAllowed(app: Express | Router): Router {
  const fallback = Router();
  const allowedFor = new WeakMap<object, Set<string>>();
  for (const [path, methods] of servedRoutes(stackOf(app))) {
    fallback.all(path, (req, _res, next) => {
      const allowed = allowedFor.get(req) ?? new Set<string>();
      for (const method of methods) allowed.add(method);
      allowedFor.set(req, allowed);
      next();
    });
  }
  fallback.use((req, res, next) => {
    const allowed = allowedFor.get(req);
    if (!allowed) return next();
    refuse(req.method, req.originalUrl, [...allowed], res, next);
  });
  return fallback;
}

/**
 * For a mount that is not a route (static files, Swagger UI): lets the given methods through and
 * answers any other with the same 405 and `Allow`.
 */
export function onlyMethods(...methods: string[]): RequestHandler {
  const allowed = new Set(methods.map((method) => method.toUpperCase()));
  return (req, res, next) =>
    allowed.has(req.method) ? next() : refuse(req.method, req.originalUrl, [...allowed], res, next);
}

function refuse(
  method: string,
  url: string,
  methods: string[],
  res: Parameters<RequestHandler>[1],
  next: (error?: unknown) => void,
): void {
  const allow = [...new Set(methods)].sort().join(', ');
  if (method === 'OPTIONS') {
    res.setHeader('Allow', allow);
    res.status(200).type('text/plain').send(allow);
    return;
  }
  const path = url.split('?')[0];
  next(
    new AppError(405, 'method_not_allowed', `${method} is not supported on ${path}; it answers ${allow}.`, {
      headers: { Allow: allow },
    }),
  );
}

function stackOf(app: Express | Router): LayerLike[] {
  const router = 'stack' in app ? app : (app as unknown as { router: { stack: LayerLike[] } }).router;
  return router.stack as LayerLike[];
}

/** Route path → methods (HEAD wherever GET is, as express serves it), in stack order, prefixes joined. */
function servedRoutes(
  stack: LayerLike[],
  prefix = '',
  into = new Map<string, Set<string>>(),
): Map<string, Set<string>> {
  for (const layer of stack) {
    if (layer.route) {
      if (typeof layer.route.path !== 'string' || layer.route.methods._all) continue;
      const path = join(prefix, layer.route.path);
      const methods = into.get(path) ?? new Set<string>();
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on) methods.add(method.toUpperCase());
      }
      if (methods.has('GET')) methods.add('HEAD');
      into.set(path, methods);
    } else if (layer.handle?.stack && typeof layer.rawPath === 'string') {
      servedRoutes(layer.handle.stack, join(prefix, layer.rawPath), into);
    }
  }
  return into;
}

const join = (prefix: string, path: string) =>
  `${prefix}/${path}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
