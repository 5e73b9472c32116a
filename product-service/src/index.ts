export { start, type RunningService, type StartOptions } from './server';
export { configShape, type Config } from './config';
export { seedDatabase, seedProducts, SEED_PRODUCTS } from './db/seed-products';
export { migrationsDir } from './db/migrations-dir';
export { createApp } from './app';
