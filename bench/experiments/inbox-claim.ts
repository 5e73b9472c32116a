/**
 * `npx tsx bench/experiments/inbox-claim.ts [orders] [rounds]` — what the inbox claim costs Postgres.
 * In a scratch database `shop_bench_claim` (platform/sql/outbox-inbox.sql, 30 past days of log
 * partitions, dropped afterwards) one connection claims, per order, its stream's first event, the
 * next, a third whose cause is the first, and a redelivery of the second — each in its own
 * BEGIN … COMMIT, as a consumer does — once through `shop_inbox_claim` (what platform sends) and once
 * through the inline statement decision 36 first used (kept here for the comparison), and once in
 * the VALUES form platform's `claimsStatement` uses for several claims (decision 41), alternating. Prints wall time and the backend's CPU (from /proc) per claim transaction. Decisions
 * 36 and 41 have figures.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, escapeLiteral } from 'pg';

const SERVER = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const NAME = 'shop_bench_claim';
const PLATFORM_SQL = path.join(__dirname, '../../platform/sql/outbox-inbox.sql');

interface Claim {
  consumer: string;
  eventId: string;
  subject: string;
  sequence: number;
  causeId: string | null;
}

const throughFunction = (claim: Claim) =>
  `SELECT claimed, in_order, seen FROM shop_inbox_claim(${escapeLiteral(claim.consumer)}, ` +
  `${escapeLiteral(claim.eventId)}::uuid, '/o', ${escapeLiteral(claim.subject)}, ${claim.sequence}, ` +
  `${claim.sequence === 0}, ${claim.causeId === null ? 'NULL' : `${escapeLiteral(claim.causeId)}::uuid`})`;

/**
 * The claim in the form `claimsStatement` sends two or more in, here for one: what a batch of one
 * sent before decision 41 settled on the function call for it.
 */
const throughValues = (claim: Claim) =>
  'SELECT c.claimed, c.in_order, c.seen FROM (VALUES (0, ' +
  `${escapeLiteral(claim.consumer)}::varchar, ${escapeLiteral(claim.eventId)}::uuid, '/o'::varchar, ` +
  `${escapeLiteral(claim.subject)}::varchar, ${claim.sequence}, ${claim.sequence === 0}, ` +
  `${claim.causeId === null ? 'NULL' : escapeLiteral(claim.causeId)}::uuid)) ` +
  'AS v(n, consumer, event, source, subject, seq, opens, cause) CROSS JOIN LATERAL ' +
  'shop_inbox_claim(v.consumer, v.event, v.source, v.subject, v.seq, v.opens, v.cause) AS c ORDER BY v.n';

/** The same rules as one inline statement with data-modifying CTEs, planned with every claim. */
function inline(claim: Claim): string {
  const c = escapeLiteral(claim.consumer);
  const id = `${escapeLiteral(claim.eventId)}::uuid`;
  const n = claim.sequence;
  const subject = escapeLiteral(claim.subject);
  const ofStream = (t = '') => `${t}consumer = ${c} AND ${t}source = '/o' AND ${t}subject = ${subject}`;
  const cause =
    claim.causeId === null ? 'true' : `shop_inbox_has(${c}, ${escapeLiteral(claim.causeId)}::uuid)`;
  return `WITH state AS (
      SELECT s.sequence AS head, s.since,
             EXISTS (SELECT 1 FROM inbox_unordered_history WHERE consumer = ${c}) AS unordered
        FROM (SELECT 1) one LEFT JOIN inbox_streams s ON ${ofStream('s.')}),
    verdict AS (
      SELECT head, since,
             CASE WHEN head IS NOT NULL AND ${n} >= since THEN ${n} <= head
                  WHEN head IS NULL AND NOT unordered THEN false
                  ELSE shop_inbox_has(${c}, ${id}) END AS seen,
             CASE WHEN head IS NOT NULL AND ${n} >= since THEN ${n} = head + 1
                  WHEN head IS NULL THEN ${n === 0} OR unordered
                  ELSE true END AND ${cause} AS in_order
        FROM state),
    advanced AS (
      UPDATE inbox_streams SET sequence = ${n}
       WHERE ${ofStream()} AND sequence = ${n - 1} AND (SELECT in_order AND NOT seen FROM verdict)
      RETURNING 1),
    opened AS (
      INSERT INTO inbox_streams (consumer, source, subject, sequence, since)
      SELECT ${c}, '/o', ${subject}, ${n}, ${n} FROM verdict WHERE head IS NULL AND in_order AND NOT seen
      ON CONFLICT DO NOTHING RETURNING 1),
    logged AS (
      INSERT INTO processed_messages (consumer, event_id)
      SELECT ${c}, ${id} FROM verdict
       WHERE EXISTS (SELECT 1 FROM advanced) OR EXISTS (SELECT 1 FROM opened)
          OR (head IS NOT NULL AND ${n} < since AND in_order AND NOT seen)
      RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM logged) AS claimed, in_order, seen FROM verdict`;
}

/** utime + stime of a process, in ms (USER_HZ is 100 on Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function measure(url: string, variant: string, statementOf: (claim: Claim) => string, orders: number) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const consumer = `bench-${variant}-${randomUUID()}`;
    const [startedAt, cpuBefore] = [process.hrtime.bigint(), cpuMs(pid)];
    let claims = 0;
    for (let order = 0; order < orders; order++) {
      const subject = randomUUID();
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      const claim = (sequence: number, causeId: string | null = null): Claim => ({
        consumer,
        eventId: ids[sequence]!,
        subject,
        sequence,
        causeId,
      });
      for (const each of [claim(0), claim(1), claim(2, ids[0]!), claim(1)]) {
        await client.query(`BEGIN; ${statementOf(each)}; COMMIT`);
        claims++;
      }
    }
    const wallMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
    const backendMs = cpuMs(pid) - cpuBefore;
    console.log(
      `${variant.padEnd(8)} ${claims} claims: ${(wallMs / claims).toFixed(3)} ms each (wall), Postgres backend CPU ${(backendMs / claims).toFixed(3)} ms each`,
    );
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const orders = Number(process.argv[2] ?? 1000);
  const rounds = Number(process.argv[3] ?? 2);
  const admin = new Client({ connectionString: SERVER });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${NAME}`);
  const url = `${SERVER}/${NAME}`;
  try {
    const setup = new Client({ connectionString: url });
    await setup.connect();
    await setup.query(readFileSync(PLATFORM_SQL, 'utf8'));
    await setup.query(
      `SELECT shop_create_daily_partitions('processed_messages', (now() AT TIME ZONE 'UTC')::date - 30, (now() AT TIME ZONE 'UTC')::date)`,
    );
    await setup.end();
    for (let round = 0; round < rounds; round++) {
      await measure(url, 'function', throughFunction, orders);
      await measure(url, 'inline', inline, orders);
      await measure(url, 'values', throughValues, orders);
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
