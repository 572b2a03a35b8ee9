export * from './schema';
export * from './search-params';
export * from './reader';
export * from './stored-resource';
