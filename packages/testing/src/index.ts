export * from './infra';
export * from './child';
