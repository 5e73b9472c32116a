export { start, type RunningService, type StartOptions } from './server';
export { configShape, type Config } from './config';
export { seedDatabase, seedProducts, SEED_PRODUCTS } from './db/seed-products';
export { migrationsDir } from './db/migrations-dir';
export { createApp } from './app';
// What one reservation sends, for the bench's raw baseline (bench/baselines/reserve-stock.ts): the
// service's own statements, so the baseline cannot drift from them.
export { orderEventHandlers } from './messaging/order-events.handlers';
export {
  orderLock,
  productsLock,
  reservationLoadQuery,
  readReservationLoad,
  isLostStockRace,
} from './db/reservation-store';
export { reservationWrites } from './use-cases/stock-saga';
export { consolidateLines } from './domain/stock-reservation';
export type { Db } from './db/database';
