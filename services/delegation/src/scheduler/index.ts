export * from './timers';
export * from './scheduler';
export * from './visits';
