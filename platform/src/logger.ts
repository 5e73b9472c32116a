import winston from 'winston';

export type Logger = winston.Logger;

/**
 * Structured JSON logs, one line per event. The level comes from LOG_LEVEL; tests default to
 * `error` so a green run stays quiet. Console transport writes asynchronously through the stream,
 * so logging never blocks a hot path.
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? defaultLevel()): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console({ stderrLevels: ['error'] })],
  });
}

function defaultLevel(): string {
  return process.env.JEST_WORKER_ID ? 'error' : 'info';
}
