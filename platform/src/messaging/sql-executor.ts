import type { ClientBase } from 'pg';

/**
 * The one thing the outbox writer and the inbox need from a transaction: Prisma's
 * `$executeRawUnsafe`, which a Prisma interactive transaction (`tx`) already has. Anything else
 * (a `pg` client in a script or test) fits through `pgExecutor`.
 */
export interface SqlExecutor {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** Adapts a `pg` client (inside whatever transaction the caller opened) to `SqlExecutor`. */
export function pgExecutor(client: Pick<ClientBase, 'query'>): SqlExecutor {
  return {
    $executeRawUnsafe: async (query, ...values) => (await client.query(query, values)).rowCount ?? 0,
  };
}
