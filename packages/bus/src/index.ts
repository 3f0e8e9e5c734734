export * from './transport';
export * from './topology';
export * from './memory';
export * from './rabbitmq';
export * from './dedupe';
export * from './message-bus';
export { BUS_HEADERS } from './bus-headers';
export type { ConsumeOutcome } from './bus-metrics';
export { BUS_LOG_EVENTS, type BusLogEvent } from './log-events';
