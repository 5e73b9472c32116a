import type { Server } from 'node:http';
import type { Express } from 'express';
import { answerClientErrors } from './client-errors';
import { drainable } from './drain';

/**
 * Listens on the port (0 picks a free one, as tests do) and resolves once the socket is bound.
 * The server is drainable: closeServer() on SIGTERM answers what is in flight with
 * `Connection: close` and /health turns 503 (see drain.ts).
 */
export function listen(app: Express, port: number, host = '0.0.0.0'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
    drainable(server);
    answerClientErrors(server);
    // Longer than the idle timeout of any load balancer in front, so it never sends on a socket we just closed.
    server.keepAliveTimeout = 65_000;
  });
}

export function portOf(server: Server): number {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('server is not listening on a TCP port');
  return address.port;
}
