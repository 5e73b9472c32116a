import { Client } from 'pg';

/**
 * What a Postgres restart or failover does to a service, provoked on one test database only:
 * `pg_terminate_backend` on every connection to `databaseUrl`'s database (or only those whose
 * current or last statement contains `queryContains`). The admin connection it uses is its own,
 * so it never terminates itself, and the filter on the database name keeps it away from every
 * other test's connections on the shared server. Returns how many backends it terminated.
 */
export async function terminateConnections(
  databaseUrl: string,
  options: { queryContains?: string } = {},
): Promise<number> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid()
          AND ($2::text IS NULL OR query LIKE '%' || $2 || '%')`,
      [database, options.queryContains ?? null],
    );
    if (rows.length === 0) return 0;
    const terminated = await admin.query<{ done: boolean }>(
      'SELECT pg_terminate_backend(pid) AS done FROM unnest($1::int[]) AS pid',
      [rows.map((row) => row.pid)],
    );
    return terminated.rows.filter((row) => row.done).length;
  } finally {
    await admin.end();
  }
}
