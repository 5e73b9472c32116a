export * from './broker';
export * from './database';
export * from './docker';
export * from './schema-drift';
export * from './capturing-logger';
export * from './database-faults';
export * from './tcp-proxy';
