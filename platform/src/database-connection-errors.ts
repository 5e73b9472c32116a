/**
 * Tells "the database is unreachable or the connection was lost" — what a Postgres restart, a
 * failover or `pg_terminate_backend` produces — apart from errors in the statement itself. These
 * are transient: the same work succeeds once the database is back, so a request answers 503
 * `database_unavailable`, a message is retried without counting against its attempts, and the
 * relay backs off. Everything else (a constraint, a syntax error, a missing table) is not.
 *
 * It looks at what each layer puts on its errors: SQLSTATE codes from the server, Node's socket
 * codes and the messages node-postgres writes for a dead connection (they carry no code) — and
 * follows `cause` and an AggregateError's errors (a host with several addresses). Kysely passes
 * node-postgres's errors through as they are.
 */

/** 08xxx connection_exception, 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections. */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const SQLSTATE_CLASSES = ['08'];
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/** node-postgres's own errors for a connection that died or never came up. */
const DRIVER_MESSAGES = [
  /^Connection terminated/,
  /^Client has encountered a connection error and is not queryable$/,
  /^timeout exceeded when trying to connect$/,
];

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function* layersOf(error: unknown): Generator<ErrorLike> {
  const pending = [error];
  const seen = new Set<unknown>();
  while (pending.length > 0 && seen.size < 16) {
    const next = pending.shift();
    if (next === null || typeof next !== 'object' || seen.has(next)) continue;
    seen.add(next);
    const layer = next as ErrorLike;
    yield layer;
    pending.push(layer.cause);
    if (Array.isArray(layer.errors)) pending.push(...(layer.errors as unknown[]));
  }
}

function isUnavailableLayer(layer: ErrorLike): boolean {
  const code = layer.code;
  if (typeof code === 'string') {
    if (SQLSTATES.has(code) || SOCKET_CODES.has(code)) return true;
    if (code.length === 5 && SQLSTATE_CLASSES.some((cls) => code.startsWith(cls))) return true;
  }
  return (
    typeof layer.message === 'string' &&
    DRIVER_MESSAGES.some((pattern) => pattern.test(layer.message as string))
  );
}

export function isDatabaseUnavailable(error: unknown): boolean {
  for (const layer of layersOf(error)) if (isUnavailableLayer(layer)) return true;
  return false;
}

/**
 * One line for the log: the innermost layer that says what happened, with its code — e.g.
 * `terminating connection due to administrator command (57P01)` — never `[object Object]`.
 */
export function describeDatabaseError(error: unknown): string {
  const layers = [...layersOf(error)];
  const unavailable = layers.filter(isUnavailableLayer);
  const layer =
    [...unavailable].reverse().find((candidate) => messageOf(candidate) !== undefined) ??
    unavailable[0] ??
    layers[0];
  if (!layer) return String(error);
  const code = typeof layer.code === 'string' ? layer.code : undefined;
  const message = messageOf(layer);
  if (message && code && !message.includes(code)) return `${message} (${code})`;
  return message ?? code ?? String(error);
}

function messageOf(layer: ErrorLike): string | undefined {
  if (typeof layer.message !== 'string') return undefined;
  return layer.message.trim() || undefined;
}
