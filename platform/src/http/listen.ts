import type { Server } from 'node:http';
import type { Express } from 'express';
import { answerClientErrors } from './client-errors';

/** Listens on the port (0 picks a free one, as tests do) and resolves once the socket is bound. */
export function listen(app: Express, port: number, host = '0.0.0.0'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
    answerClientErrors(server);
    server.keepAliveTimeout = 65_000;
  });
}

export function portOf(server: Server): number {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('server is not listening on a TCP port');
  return address.port;
}
