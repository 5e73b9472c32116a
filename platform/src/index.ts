export * from './config';
export * from './health';
export * from './http';
export * from './logger';
export * from './migrator';
export * from './shutdown';
export * from './messaging';
export * from './tools';
