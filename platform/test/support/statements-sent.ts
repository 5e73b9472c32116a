import type { Pool, PoolClient } from 'pg';

/**
 * Records the text of every query `pool`'s connections send from now on, one entry per round
 * trip: how a test sees how many statements a helper costs without reading server statistics.
 * Each connection is wrapped once, when the pool opens it, so open `pool` right before.
 */
export function recordStatementsSent(pool: Pool): string[] {
  const sent: string[] = [];
  pool.on('connect', (client: PoolClient) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const [first] = args;
      sent.push(typeof first === 'string' ? first : (first as { text: string }).text);
      return query(...args);
    };
  });
  return sent;
}
