import { createDatabase, createPgPool } from '@shop/platform';
import type { Db } from '../../src/db/database';
import type { DB } from '../../src/generated/database';

/** The service's database type on a small pool of its own, for arranging and inspecting a test database. */
export const openDb = (url: string, max = 4): Db => createDatabase<DB>(createPgPool(url, { max }));
