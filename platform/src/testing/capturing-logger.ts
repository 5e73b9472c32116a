import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from '../logger';

/**
 * A logger for tests that keeps every line it writes, parsed, so a test can assert on what an
 * operator would read (messages and their fields) instead of on calls to a mock.
 */
export function capturingLogger(level = 'debug'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = winston.createLogger({
    level,
    format: winston.format.json(),
    transports: [
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
            done();
          },
        }),
      }),
    ],
  });
  return { logger, lines };
}
