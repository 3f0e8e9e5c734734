export * from './errors';
export * from './ids';
export * from './messages';
export * from './envelope';
export * from './email';
export * from './header-text';
export * from './providers';
