import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedExchange {
  req: IncomingMessage;
  res: ServerResponse;
}

export interface ScriptedService {
  url: string;
  /** The next request to arrive, unanswered: the test reads it and answers it as it likes. */
  next(): Promise<ScriptedExchange>;
  close(): Promise<void>;
}

/**
 * A service behind the gateway whose every answer the test writes itself (stub-service.ts answers
 * on its own): so a test can hold an answer, send part of it, or break it off.
 */
export async function startScriptedService(): Promise<ScriptedService> {
  const arrived: ScriptedExchange[] = [];
  const waiting: ((exchange: ScriptedExchange) => void)[] = [];
  const server = createServer((req, res) => {
    const exchange = { req, res };
    const waiter = waiting.shift();
    if (waiter) waiter(exchange);
    else arrived.push(exchange);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    next: () => {
      const exchange = arrived.shift();
      return exchange ? Promise.resolve(exchange) : new Promise((resolve) => waiting.push(resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The whole body of a request or an answer. */
export async function bodyOf(message: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The next chunk a stream delivers; the stream is paused after it, so nothing later is lost. */
export const nextChunk = (message: IncomingMessage) =>
  new Promise<Buffer>((resolve) =>
    message.once('data', (chunk: Buffer) => {
      message.pause();
      resolve(chunk);
    }),
  );
