import { findMigrationsDir } from '@shop/platform';

/** This package's prisma/migrations, from src/db or dist/src/db alike. */
export const migrationsDir = (from = __dirname): string => findMigrationsDir(from);
