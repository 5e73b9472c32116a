import type { Express } from 'express';

export interface RouteEntry {
  method: string;
  path: string;
}

interface LayerLike {
  rawPath?: string | string[];
  route?: { path: string; methods: Record<string, boolean> };
  name?: string;
  handle?: { stack?: LayerLike[] };
}

/** Every method + path an express 5 app serves, with mounted routers' prefixes joined in. */
export function routesOf(app: Express): RouteEntry[] {
  const stack = (app as unknown as { router: { stack: LayerLike[] } }).router.stack;
  return walk(stack, '');
}

function walk(stack: LayerLike[], prefix: string): RouteEntry[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const path = join(prefix, layer.route.path);
      // `_all` is the 405 fallback's (platform methodNotAllowed): it matches a path, it serves no method.
      return Object.keys(layer.route.methods)
        .filter((method) => method !== '_all')
        .map((method) => ({ method: method.toUpperCase(), path }));
    }
    if (typeof layer.rawPath !== 'string') return [];
    if (layer.handle?.stack) return walk(layer.handle.stack, join(prefix, layer.rawPath));
    // Static files mounted under a path (Swagger UI's assets) answer GETs there.
    if (layer.name === 'serveStatic') return [{ method: 'GET', path: join(prefix, layer.rawPath) }];
    return [];
  });
}

const join = (prefix: string, path: string) => `${prefix}/${path}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
