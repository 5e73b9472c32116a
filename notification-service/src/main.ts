import '@shop/platform/otel';
import { runService } from '@shop/platform';
import { configShape } from './config';
import { start } from './server';

runService('notification-service', configShape, start);
