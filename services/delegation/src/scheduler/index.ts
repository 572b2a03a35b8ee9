export * from './timers';
export * from './scheduler';
