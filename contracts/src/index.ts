export * from './metadata';
export * from './events';
export * from './service';
export * from './care';
export * from './delegation';
export * from './audit/access';
export * from './subscriptions/subscription';
export * from './storable-text';
