export { start, type Started, type StartOptions } from './server';
export { configShape, type Config } from './config';
export { migrationsDir } from './db/migrations-dir';
export { createApp } from './app';
