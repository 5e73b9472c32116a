export * from './app-error';
export * from './auth';
export * from './json-body';
export * from './listen';
export * from './problem';
export * from './request-context';
export * from './validate';
export * from './service-app';
