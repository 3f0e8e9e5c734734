export * from './infra';
export * from './child';
export * from './log-codes';
