export { start, type RunningGateway } from './server';
export { createApp } from './app';
export { configShape, type Config } from './config';
