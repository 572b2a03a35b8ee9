export * from './access';
export * from './dev-issuer';
export * from './endpoints';
export * from './errors';
export * from './policy';
export * from './principal';
export * from './scopes';
export * from './verify';
