export {
  createMemoryTransport,
  type MemoryTransport,
  type MemoryTransportOptions,
} from './memory-transport';
export { MemoryBroker } from './memory-broker';
export { compileTopicPattern, matchesTopic, type TopicMatcher } from './topic-matcher';
