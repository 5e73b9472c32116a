export * from './broker';
export * from './database';
export * from './docker';
