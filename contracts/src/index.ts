export * from './metadata';
export * from './events';
