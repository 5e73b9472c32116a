import { describeDatabaseError, isDatabaseUnavailable } from '../database-connection-errors';
import { AppError } from './app-error';

/**
 * How long a client is asked to wait. A restart or failover takes seconds; the pools reconnect
 * on the next query, so a retry after this usually lands on the database that came back.
 */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * A request whose database was unreachable or whose connection was lost (SPEC §4): 503
 * `database_unavailable` with `Retry-After` — the request may well succeed a moment later, which
 * a 500 would not tell the client. The cause goes to the log (as `cause`), not to the client.
 */
export function databaseUnavailableError(error: unknown): AppError | undefined {
  if (!isDatabaseUnavailable(error)) return undefined;
  const problem = new AppError(503, 'database_unavailable', 'The database is not reachable right now; try again shortly.', {
    headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
  });
  problem.cause = describeDatabaseError(error);
  return problem;
}
