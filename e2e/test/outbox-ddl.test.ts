import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The outbox and inbox tables are platform code (the relay and the consumer read and write them),
 * but each service's Prisma migration history must create them itself. The migrations therefore
 * carry a copy of platform/sql/outbox-inbox.sql; this keeps every copy exact.
 */
const root = join(__dirname, '../..');
const platformSql = readFileSync(join(root, 'platform/sql/outbox-inbox.sql'), 'utf8');
const statements = (sql: string) =>
  sql
    .replace(/--.*$/gm, '')
    .split(/;\s*$/m)
    .map((statement) => statement.replace(/\s+/g, ' ').trim())
    .filter(Boolean);

function migrationSqlOf(service: string): string {
  const dir = join(root, service, 'prisma/migrations');
  return readdirSync(dir)
    .filter((name) => !name.endsWith('.toml'))
    .map((name) => readFileSync(join(dir, name, 'migration.sql'), 'utf8'))
    .join('\n');
}

describe.each(['order-service', 'product-service'])('the %s migrations', (service) => {
  it('create the outbox and inbox exactly as platform/sql/outbox-inbox.sql does', () => {
    const migrations = statements(migrationSqlOf(service));

    expect(statements(platformSql).filter((statement) => !migrations.includes(statement))).toEqual([]);
  });
});

it('the notification service migrations create the inbox exactly as the platform does', () => {
  const migrations = statements(migrationSqlOf('notification-service'));
  // The inbox's tables and the functions they use; nothing of the outbox, which this service has not.
  const inbox = statements(platformSql).filter(
    (statement) => /processed_messages|inbox_|shop_/.test(statement) && !statement.includes('outbox_events'),
  );

  expect(inbox.length).toBeGreaterThan(0);
  expect(inbox.filter((statement) => !migrations.includes(statement))).toEqual([]);
});
