export * from './common';
export * from './products';
export * from './orders';
export * from './notifications';
export * from './events';
export * from './topology';
export * from './health';
export * from './openapi-document';
