/**
 * For `PrismaPg`'s `statementNameGenerator`: one name per distinct SQL text, so node-postgres
 * prepares each statement once per connection and Postgres stops parsing and planning it per call
 * (the adapter's default sends every statement unnamed). A name always stands for the same text,
 * which node-postgres requires.
 */
export function preparedStatementNames(): (query: { sql: string }) => string {
  const names = new Map<string, string>();
  return ({ sql }) => {
    let name = names.get(sql);
    if (!name) {
      name = `prisma_${names.size}`;
      names.set(sql, name);
    }
    return name;
  };
}
