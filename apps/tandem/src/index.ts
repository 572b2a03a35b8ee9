export * from './config';
export * from './tandem';
export * from './server';
