/**
 * `@shop/platform/tools`: the operator tools behind `npm run dlq`, `tail` and `topology:export`.
 * Their own entry point, not the runtime barrel, so a service never loads them: they open their
 * own fail-fast broker sessions and are only for a person at a terminal (and their tests).
 */
export { openBrokerSession, redactUrl, withBrokerSession, type BrokerSession } from './broker-session';
export {
  buildDefinitions,
  DEFINITIONS_RABBIT_VERSION,
  renderDefinitions,
  type DefinitionsOptions,
  type RabbitDefinitions,
} from './definitions';
export {
  deadLetterQueueNames,
  describeDeadLetter,
  listDeadLetters,
  PRIOR_DEATHS_HEADER,
  purgeDeadLetters,
  replayDeadLetters,
  REPLAYS_HEADER,
  type DeadLetter,
  type DeadLetterList,
  type QueueNames,
  type ReplayOutcome,
} from './dlq';
export { formatTailLine, tailExchange, type Tail, type TailedMessage, type TailOptions } from './tail';
export { ToolError } from './tool-error';
