export * from './dkim';
export * from './policy';
export * from './profile';
export * from './random';
export * from './replies';
export * from './simulator';
export type { ProviderStats } from './stats';
export type { ReceivedMessage, Refused } from './provider-server';
export { runSimulatorCli } from './cli';
